"""Numerai's API through numerapi: bounded transport, verified client and downloads."""
