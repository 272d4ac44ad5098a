"""What the web site and the model server must agree on: settings, job contract, storage, errors."""
