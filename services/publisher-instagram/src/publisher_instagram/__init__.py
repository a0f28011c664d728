"""Herald publisher-instagram: publishes posts to Instagram professional accounts."""
