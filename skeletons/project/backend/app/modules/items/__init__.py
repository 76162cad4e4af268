"""Items: the example resource. Copy this module to start a new one."""
