"""The JSON Schema of stack files, and the build step that generates it from the settings."""
