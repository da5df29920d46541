package tgbot

// What the bot answers followers, in Spanish and English.
type message int

const (
	msgWelcome message = iota
	msgAlready
	msgLanguageSet
	msgLanguageUsage
	msgNotFollowing
	msgStopped
	msgHelp
)

var messages = map[string]map[message]string{
	"es": {
		msgWelcome:       "Listo: recibirás aquí nuestros comunicados, en español. Escribe /language en para recibirlos en inglés, o /stop para dejar de recibirlos.",
		msgAlready:       "Ya recibes aquí nuestros comunicados. Escribe /stop para dejar de recibirlos.",
		msgLanguageSet:   "Recibirás los comunicados en español.",
		msgLanguageUsage: "Escribe /idioma es (español) o /idioma en (inglés).",
		msgNotFollowing:  "Aún no recibes comunicados: escribe /start.",
		msgStopped:       "Ya no recibirás comunicados. Escribe /start para volver a recibirlos.",
		msgHelp:          "Comandos: /start para recibir los comunicados, /idioma es|en para elegir el idioma, /stop para dejar de recibirlos.",
	},
	"en": {
		msgWelcome:       "Done: you will get our press releases here, in English. Type /idioma es for Spanish, or /stop to stop them.",
		msgAlready:       "You get our press releases here already. Type /stop to stop them.",
		msgLanguageSet:   "You will get press releases in English.",
		msgLanguageUsage: "Type /language en (English) or /language es (Spanish).",
		msgNotFollowing:  "You do not get our press releases yet: type /start.",
		msgStopped:       "You will no longer get our press releases. Type /start to get them again.",
		msgHelp:          "Commands: /start to get our press releases, /language es|en to pick the language, /stop to stop them.",
	},
}

// say returns m in lang (English for a language other than es).
func say(lang string, m message) string {
	if t, ok := messages[supported(lang)]; ok {
		return t[m]
	}
	return messages["en"][m]
}
