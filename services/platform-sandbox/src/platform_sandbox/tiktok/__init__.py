"""TikTok v2: Content Posting API (video and photo), uploads, status, and Display API reads."""
