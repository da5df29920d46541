package web

// noteMessages says the API's notes (api.NoteCodes): the pre-send checks'
// sentences and why an import refused a row, {Spanish, English}. The
// placeholders are explained in notes.go. TestNoteMessages checks that
// every code the API can send is here, in both languages, with each of its
// values.
var noteMessages = map[string][2]string{
	// text
	"text.none": {"El comunicado todavía no tiene texto: escríbelo antes de enviarlo.",
		"The release has no text yet: write its body before sending."},
	"text.version_missing": {"La versión «{lang}» todavía no tiene texto: escríbelo antes de enviar.",
		"The {lang} version has no text yet: write it before sending."},
	"text.versions_missing": {"Estas versiones todavía no tienen texto: {langs:comma}. Escribe su texto antes de enviar.",
		"These versions have no text yet: {langs:comma}. Write them before sending."},
	"text.ok":          {"El comunicado tiene su texto.", "The release has its text."},
	"text.ok_versions": {"Las {n} versiones tienen su texto.", "Each of the {n} versions has its text."},

	// languages
	"languages.ok": {"Todos los destinatarios tienen una versión en su idioma ({langs:comma}).",
		"Every recipient has a version in their language ({langs:comma})."},
	"languages.missing": {"No hay versión en {missing:or}: recibirán el original, en «{original}».",
		"No version in {missing:or}: they will get the original, in {original}."},
	"languages.missing_lang": {"«{lang}» ({n|1 destinatario|# destinatarios})", "{lang} ({n|1 recipient|# recipients})"},
	"scan.capped": {"Solo se leyeron los primeros {read} miembros de las listas.",
		"Only the first {read} list members were read."},

	// embargo
	"embargo.none": {"No hay embargo: todas las audiencias reciben el comunicado en cuanto se envía.",
		"No embargo: every audience gets the release as soon as it is sent."},
	"embargo.until": {"Embargo hasta el {at:time} ({zone}).", "Embargoed until {at:time} ({zone})."},
	"embargo.passed": {"El embargo, el {at:time} ({zone}), ya pasó: muévelo a una hora posterior, o quítalo, antes de enviar.",
		"The embargo, {at:time} ({zone}), has already passed: move it to a later time, or remove it, before sending."},
	"embargo.lifted": {"El embargo terminó el {at:time} ({zone}).", "The embargo lifted on {at:time} ({zone})."},

	// audiences
	"audiences.none": {"El comunicado no tiene audiencia: añade una lista o un canal de Telegram.",
		"The release has no audience: add a list or a Telegram channel."},
	"audiences.nobody":     {"Nadie recibiría el comunicado: {why}.", "No one would receive the release: {why}."},
	"audiences.no_members": {"sus listas no tienen miembros", "its lists have no members"},
	"audiences.all_suppressed": {"{n|el único miembro de sus listas está suprimido|los # miembros de sus listas están suprimidos}",
		"every member of its lists is suppressed ({n})"},
	"audiences.no_followers":      {"el bot de Telegram no tiene seguidores", "the Telegram bot has no followers"},
	"audiences.channel_inactive":  {"su canal de Telegram no está activo", "its Telegram channel is not active"},
	"audiences.channels_inactive": {"ninguno de sus {n} canales de Telegram está activo", "none of its {n} Telegram channels is active"},
	"audiences.receive":           {"El comunicado llegará a {who}.", "{who} will receive the release."},
	"audiences.receive_at_least":  {"El comunicado llegará al menos a {who}.", "At least {who} will receive the release."},
	"audiences.emails":            {"{n|1 dirección de correo|# direcciones de correo}", "{n|1 email address|# email addresses}"},
	"audiences.channels":          {"{n|1 canal de Telegram|# canales de Telegram}", "{n|1 Telegram channel|# Telegram channels}"},
	"audiences.followers":         {"{n|1 seguidor de Telegram|# seguidores de Telegram}", "{n|1 Telegram follower|# Telegram followers}"},
	"audiences.duplicates": {
		"{n|1 dirección está en más de una lista; recibirá un solo correo.|# direcciones están en más de una lista; cada una recibirá un solo correo.}",
		"{n|1 address is on more than one list; it will get one email.|# addresses are on more than one list; each will get one email.}"},
	"audiences.suppressed": {
		"{n|1 dirección está suprimida (se dio de baja o rebotó) y no recibirá correo.|# direcciones están suprimidas (se dieron de baja o rebotaron) y no recibirán correo.}",
		"{n|1 address is suppressed (unsubscribed or bounced) and will not be mailed.|# addresses are suppressed (unsubscribed or bounced) and will not be mailed.}"},
	"audiences.unavailable": {
		"{n|1 canal de Telegram no está activo y se omitirá.|# canales de Telegram no están activos y se omitirán.}",
		"{n|1 Telegram channel is not active and will be skipped.|# Telegram channels are not active and will be skipped.}"},

	// attachments
	"attachments.none":  {"No hay archivos adjuntos.", "No attachments."},
	"attachments.total": {"{n|1 archivo|# archivos}, {size:size} en total.", "{n|1 file|# files}, {size:size} in all."},
	"attachments.file_too_big": {"{file} pesa {size:size}, más que el límite de {max:size} por archivo.",
		"{file} is {size:size}, over the limit of {max:size} per file."},
	"attachments.too_big": {"Los archivos suman {size:size}, más que el límite de {max:size} por comunicado.",
		"The files add up to {size:size}, over the limit of {max:size} per release."},
	"attachments.no_language": {"{file} es para «{lang}», un idioma en el que el comunicado no tiene versión: nadie lo recibirá.",
		"{file} is for {lang}, a language the release has no version in: nobody will get it."},

	// links
	"links.none": {"El texto no tiene enlaces.", "No links in the text."},
	"links.broken": {"{n|1 enlace|# enlaces} de {checked} podría{n||n} estar roto{n||s}: {links:semi}. Revísa{n|lo|los} antes de enviar.",
		"{n} of {checked|# link|# links} may be broken: {links:semi}. Check {n|it|them} before sending."},
	"links.link_status":    {"{url} (respondió {status})", "{url} (answered {status})"},
	"links.link_private":   {"{url} (no se revisó: apunta a una dirección de red privada)", "{url} (not checked: it points to a private network address)"},
	"links.link_not_web":   {"{url} (no es una dirección web: http o https)", "{url} (not a web address: http or https)"},
	"links.link_redirects": {"{url} (redirige demasiadas veces)", "{url} (redirects too many times)"},
	"links.link_timeout":   {"{url} (no respondió a tiempo)", "{url} (no answer in time)"},
	"links.link_no_host":   {"{url} (no se encontró el nombre de su servidor)", "{url} (its server name was not found)"},
	"links.link_no_answer": {"{url} (no respondió)", "{url} (no answer)"},
	"links.one_ok":         {"El único enlace responde.", "The one link answers."},
	"links.all_ok":         {"Los {n} enlaces responden.", "All {n} links answer."},
	"links.unchecked": {"{n|1 enlace más no se revisó|# enlaces más no se revisaron}: solo se revisan los primeros {checked}.",
		"{n|# more link was|# more links were} not checked: only the first {checked} are."},

	// dns
	"dns.ok": {"Los registros con los que los servidores de destino comprueban el correo están publicados ({records:comma}).",
		"The records receivers check the mail against are published ({records:comma})."},
	"dns.weak": {"Registros DNS del dominio del remitente que faltan o son débiles ({n} de {total}): {records}. Los servidores de destino podrían desconfiar del correo; ejecuta «pregon dns check» para ver qué registros publicar.",
		"{n} of {total|# DNS record|# DNS records} of the From domain {n|is|are} missing or weak, so receivers may not trust the mail: {records}. Run \"pregon dns check\" for the records to publish."},

	"checks.unchecked": {"El comunicado {id} se guardó, pero no se pudo revisar en este momento: vuelve a abrir su página en un momento.",
		"The release {id} was stored, but it could not be checked just now: open its page again in a moment."},

	// refused rows of an import
	"row.email_invalid": {"la dirección de correo no es válida", "invalid email address"},
	"row.email_local_too_long": {"dirección no válida: la parte antes de @ tiene más de 64 caracteres",
		"invalid email: the part before @ is longer than 64 characters"},
	"row.email_local_non_ascii": {"dirección no válida: la parte antes de @ tiene letras no ASCII, que los servidores de correo solo aceptan con SMTPUTF8 (no admitido)",
		"invalid email: the part before @ has non-ASCII letters, which mail servers accept only with SMTPUTF8 (not supported)"},
	"row.email_ip_literal": {"dirección no válida: no se acepta una dirección IP entre corchetes como dominio",
		"invalid email: an IP address in brackets is not accepted as a domain"},
	"row.email_domain_hyphen": {"dirección no válida: el dominio «{domain}» tiene una parte que empieza o termina en «-»",
		"invalid email: the domain “{domain}” has a label that starts or ends with “-”"},
	"row.email_domain_invalid": {"dirección no válida: «{domain}» no es un nombre de dominio válido",
		"invalid email: the domain “{domain}” is not a valid domain name"},
	"row.email_domain_not_full": {"dirección no válida: «{domain}» no es un nombre de dominio completo",
		"invalid email: the domain “{domain}” is not a full domain name"},
	"row.email_domain_label": {"dirección no válida: el dominio «{domain}» tiene una parte vacía, demasiado larga o que empieza o termina en «-»",
		"invalid email: the domain “{domain}” has a label that is empty, too long, or starts or ends with “-”"},
	"row.email_domain_chars": {"dirección no válida: el dominio «{domain}» solo puede tener letras, dígitos, «-» y puntos",
		"invalid email: the domain “{domain}” may hold only letters, digits, “-” and dots"},
	"row.email_domain_ip": {"dirección no válida: el dominio «{domain}» es una dirección IP",
		"invalid email: the domain “{domain}” is an IP address"},
	"row.language_invalid": {"el idioma no es válido (usa un código como es, en o pt-BR)", "invalid language (use a code like es, en or pt-BR)"},
	"row.name_too_long":    {"el nombre tiene más de {max} caracteres", "name is longer than {max} characters"},
	"row.outlet_too_long":  {"el medio tiene más de {max} caracteres", "outlet is longer than {max} characters"},
	"row.name_control": {"el nombre tiene caracteres de control (como NUL, ESC, salto de página o los separadores Unicode U+2028 y U+2029)",
		"name must not contain control characters (such as NUL, ESC, form feed or the Unicode line separators U+2028 and U+2029)"},
	"row.outlet_control": {"el medio tiene caracteres de control (como NUL, ESC, salto de página o los separadores Unicode U+2028 y U+2029)",
		"outlet must not contain control characters (such as NUL, ESC, form feed or the Unicode line separators U+2028 and U+2029)"},
	"row.tag_too_long": {"una etiqueta tiene más de {max} caracteres", "a tag is longer than {max} characters"},
	"row.tags_control": {"las etiquetas tienen caracteres de control (como NUL, ESC o salto de página)",
		"tags must not contain control characters (such as NUL, ESC or form feed)"},
	"row.too_many_tags":          {"más de {max} etiquetas", "more than {max} tags"},
	"row.attributes_too_many":    {"atributos: más de {max} claves", "attributes: more than {max} keys"},
	"row.attribute_key_empty":    {"atributos: una clave está vacía", "attributes: a key is empty"},
	"row.attribute_key_too_long": {"atributos: la clave «{key}» tiene más de {max} caracteres", "attributes: the key “{key}” is longer than {max} characters"},
	"row.attribute_key_control":  {"atributos: la clave {key} tiene caracteres de control", "attributes: the key {key} must not contain control characters"},
	"row.attribute_value_too_long": {"atributos: el valor de «{key}» tiene más de {max} caracteres",
		"attributes: the value of “{key}” is longer than {max} characters"},
	"row.attribute_value_control": {"atributos: el valor de «{key}» tiene caracteres de control",
		"attributes: the value of “{key}” must not contain control characters"},
	"row.csv_bare_quote": {"línea CSV mal formada: unas comillas (\") en una celda que no va entre comillas",
		"malformed CSV line: a quote (\") in a cell that is not quoted"},
	"row.csv_quote": {"línea CSV mal formada: sobran o faltan comillas (\") en una celda entre comillas",
		"malformed CSV line: a quote (\") too many or missing in a quoted cell"},
	"row.csv_malformed": {"línea CSV mal formada", "malformed CSV line"},
	"row.erased":        {"la persona pidió que se borraran sus datos: no se guarda", "erased on request: not saved"},
}
