"""Herald publisher-facebook: publishes posts to Facebook Pages."""
