package api

import "github.com/pregon/pregon/dispatcher"

// The notes of the checks and of the import's refused rows: each sentence
// the API writes in English is also said as a code and its values, so that
// an interface can say it in its own language (the web app does). A value
// is a number, a string (a time is RFC 3339, with the zone's offset), a
// list of strings, or a list of notes (the parts of an enumeration: "12
// email addresses and 1 Telegram channel"). The English message stays the
// API's word; a note's code never changes meaning once published.

// NoteCodes returns every code a check's note or a refused row can carry,
// each with the names of its values, so that an interface (and its tests)
// can know them all.
func NoteCodes() map[string][]string {
	return map[string][]string{
		// text
		"text.none": nil, "text.version_missing": {"lang"}, "text.versions_missing": {"langs"},
		"text.ok": nil, "text.ok_versions": {"n"},
		// languages
		"languages.ok": {"langs"}, "languages.missing": {"missing", "original"}, "languages.missing_lang": {"lang", "n"},
		"scan.capped": {"read"},
		// embargo
		"embargo.none": nil, "embargo.until": {"at", "zone"}, "embargo.passed": {"at", "zone"}, "embargo.lifted": {"at", "zone"},
		// audiences
		"audiences.none": nil, "audiences.nobody": {"why"},
		"audiences.no_members": nil, "audiences.all_suppressed": {"n"}, "audiences.no_followers": nil,
		"audiences.channel_inactive": nil, "audiences.channels_inactive": {"n"},
		"audiences.receive": {"who"}, "audiences.receive_at_least": {"who"},
		"audiences.emails": {"n"}, "audiences.channels": {"n"}, "audiences.followers": {"n"},
		"audiences.duplicates": {"n"}, "audiences.suppressed": {"n"}, "audiences.unavailable": {"n"},
		// attachments
		"attachments.none": nil, "attachments.total": {"n", "size"}, "attachments.file_too_big": {"file", "size", "max"},
		"attachments.too_big": {"size", "max"}, "attachments.no_language": {"file", "lang"},
		// links
		"links.none": nil, "links.broken": {"n", "checked", "links"}, "links.one_ok": nil, "links.all_ok": {"n"},
		"links.unchecked":   {"n", "checked"},
		"links.link_status": {"url", "status"}, "links.link_private": {"url"}, "links.link_not_web": {"url"},
		"links.link_redirects": {"url"}, "links.link_timeout": {"url"}, "links.link_no_host": {"url"}, "links.link_no_answer": {"url"},
		// dns
		"dns.ok": {"records"}, "dns.weak": {"n", "total", "records"},
		// the warning said when the checks could not be worked out
		"checks.unchecked": {"id"},
		// refused rows of an import
		"row.email_invalid": nil, "row.language_invalid": nil,
		// (dispatcher.EmailError's kinds)
		"row.email_local_too_long": nil, "row.email_local_non_ascii": nil, "row.email_ip_literal": nil,
		"row.email_domain_hyphen": {"domain"}, "row.email_domain_invalid": {"domain"}, "row.email_domain_not_full": {"domain"},
		"row.email_domain_label": {"domain"}, "row.email_domain_chars": {"domain"}, "row.email_domain_ip": {"domain"},
		"row.name_too_long": {"max"}, "row.outlet_too_long": {"max"}, "row.name_control": nil, "row.outlet_control": nil,
		"row.tag_too_long": {"max"}, "row.tags_control": nil, "row.too_many_tags": {"max"},
		"row.attributes_too_many": {"max"}, "row.attribute_key_empty": nil, "row.attribute_key_too_long": {"key", "max"},
		"row.attribute_key_control": {"key"}, "row.attribute_value_too_long": {"key", "max"}, "row.attribute_value_control": {"key"},
		"row.csv_bare_quote": nil, "row.csv_quote": nil, "row.csv_malformed": nil,
		"row.erased": nil,
	}
}

// note returns the note code with its values, given as name, value pairs.
func note(code string, kv ...any) dispatcher.Note {
	n := dispatcher.Note{Code: code}
	if len(kv) > 0 {
		n.Args = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			n.Args[kv[i].(string)] = kv[i+1]
		}
	}
	return n
}
