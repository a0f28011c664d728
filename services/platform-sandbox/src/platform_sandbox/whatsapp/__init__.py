"""WhatsApp Cloud API: messages, media, business accounts and status webhooks."""
