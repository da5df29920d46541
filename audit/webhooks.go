package audit

// Actions on outgoing webhooks; Target is the webhook's id.
const (
	WebhookCreate Action = "webhook.create"
	WebhookDelete Action = "webhook.delete"
	WebhookEnable Action = "webhook.enable"
)
