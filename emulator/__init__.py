"""An offline stand-in for the FastPix Live Stream API (see ../shared/fastpix-contract.md).

`python -m emulator` serves it; `emulator.testing.EmulatorServer` runs it inside a test process.
This package never imports the dashboard (`streams`) or Django.
"""
