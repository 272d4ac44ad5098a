"""The Camtrap DP 1.0.2 package in the result zip (`camtrap-dp/`) and its offline validation."""
