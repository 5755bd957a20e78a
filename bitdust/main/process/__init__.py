"""What ties the engine to its operating-system process and home folder."""
