"""HTTP routes of the service besides the runtime's: the WhatsApp webhook."""
