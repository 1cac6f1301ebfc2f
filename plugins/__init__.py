"""genzoo's built-in plugins, registered through the `genzoo` entry-point group."""
