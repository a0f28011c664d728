"""Herald platform-sandbox.

A faithful stand-in for the four platform APIs (development and tests only).
"""
