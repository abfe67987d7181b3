"""The local stack: AWS resources on moto, a scripted model, and the gateway emulator."""
