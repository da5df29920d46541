package web

// problemMessages says the API's problems (api.ProblemCodes) in the
// person's language, {Spanish, English}, with the placeholders of notes
// (notes.go). The web app says a problem from its code; from an API that
// sends none, it reads the code and values from the English detail
// (detailRules, problems.go). TestProblemMessages checks that every code
// the API can send is here, in both languages, with each of its values.
var problemMessages = map[string][2]string{
	"not_found":   {"Esta página no existe.", "There is no such page."},
	"unavailable": {"El servicio no está disponible ahora. Inténtalo en un momento.", "The service is not available right now. Try again in a moment."},
	"too_big":     {"Lo enviado es demasiado grande: el máximo es {max:size}.", "What was sent is too large: the most is {max:size}."},

	"channel.bot_cannot_post": {"El bot no puede publicar en {chat_id}: hazlo administrador del canal con permiso para publicar mensajes y vuelve a intentarlo.",
		"The bot cannot post to {chat_id}: make it an administrator of the channel allowed to post messages, then try again."},
	"channel.not_pending": {"Este canal está {status}, no pendiente: solo se aprueba un canal que el bot encontró. Uno no disponible se reactiva.",
		"This channel is {status}, not pending: only a channel the bot found is approved. An unavailable one is enabled again."},
	"channel.taken": {"El canal {chat_id} ya está registrado.", "The channel {chat_id} is registered already."},

	"release.version_conflict": {"El comunicado cambió mientras lo mirabas (ahora es la versión {current}): vuelve a cargarlo y revísalo.",
		"The release changed while you were looking at it (it is version {current} now): reload it and check it again."},
	"release.changed_while_checked": {"El comunicado cambió mientras se revisaba (se revisó la versión {checked} y ahora es la versión {current}), así que no se envió: vuelve a cargarlo y revísalo.",
		"The release changed while it was being checked (version {checked} was checked, it is version {current} now), so it was not sent: reload it and check it again."},
	"release.sending": {"El comunicado se está enviando: ya no se puede cambiar. Cuando termine, publica una corrección.",
		"The release is being sent: it can no longer change. Once it is sent, publish a correction."},
	"release.cancelled": {"El comunicado fue cancelado: ya no se puede hacer esto.", "The release was cancelled: this can no longer be done."},
	"release.sent": {"El comunicado ya se envió: ya no se puede hacer esto. Para cambiarlo, publica una corrección.",
		"The release was sent already: this can no longer be done. To change it, publish a correction."},
	"release.own": {"Escribiste este comunicado: debe aprobarlo otra persona coordinadora.", "You wrote this release: another coordinator must approve it."},
	"release.needs_approval": {"Antes de enviarlo, otra persona coordinadora debe aprobar la versión {version}.",
		"Before it is sent, another coordinator must approve version {version}."},
	"release.checks_failed": {"El comunicado no se puede enviar todavía: la revisión encontró errores. Corrígelos y vuelve a intentarlo.",
		"The release cannot be sent yet: the checks found errors. Fix them and try again."},
	"release.approve_incomplete": {"La versión {version} todavía no se puede enviar (le falta el texto o una audiencia), así que no se puede aprobar: apruébala cuando se los añadan.",
		"Version {version} cannot be sent yet (it lacks its text or an audience), so it cannot be approved: approve it once they are added."},
	"release.incomplete": {"El comunicado ya está programado para salir: debe conservar al menos una audiencia y el texto de cada versión.",
		"The release is already scheduled to go out: it must keep at least one audience and the text of every version."},

	"correction.not_sent": {"Solo se corrige un comunicado enviado; este todavía se puede editar.", "Only a sent release is corrected; this one can still be edited."},
	"correction.no_change": {"La corrección no cambia nada: cambia el texto o márcala como retractación.",
		"The correction changes nothing: change the text or mark it as a retraction."},

	"contact.not_found": {"No hay ningún contacto con esa dirección; agrégala primero a una lista.", "There is no contact with that address; add it to a list first."},
}
