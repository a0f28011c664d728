"""Facebook Pages: feed posts, photos, videos and their insights, as Graph serves them."""
