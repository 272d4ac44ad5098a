"""From events to ecology: effort, relative abundance, detection histories and activity."""
