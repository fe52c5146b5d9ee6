"""The benchmark command: ``make bench`` (``python -m bench``). Every figure is a ratio or a
count against a baseline measured in the same run, never a bare time."""
