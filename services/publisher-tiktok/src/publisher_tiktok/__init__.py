"""Herald publisher-tiktok: publishes videos and photos to TikTok."""
