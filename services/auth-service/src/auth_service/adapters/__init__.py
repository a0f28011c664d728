"""Implementations of the ports: MongoDB repositories, platform clients, the system clock."""
