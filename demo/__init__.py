"""The Quick start's main job: the whole system on this machine and a simulated retail day."""
