"""emergent: the command line, configs, run directories, runner and the analysis of emergence."""

__version__ = "0.1.0"
