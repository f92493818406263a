"""The course: what a lecturer needs beside the chapters (floor 5).

- `selfcheck`: a student's answer to an exercise of notebooks 01-07, checked by recomputing it.
- `teaching`: the traps of a survival comparison shown by simulation (immortal time), and power.
"""
