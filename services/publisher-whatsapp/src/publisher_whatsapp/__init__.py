"""Herald publisher-whatsapp: sends WhatsApp Business messages and broadcasts."""
