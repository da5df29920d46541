// Package templates renders a release for each channel: an email (subject,
// plain text and HTML) and one or more Telegram messages in Telegram's HTML
// parse mode.
//
// The release body is Markdown. It is parsed once per call with goldmark and
// each output is produced from the syntax tree: the email HTML with goldmark's
// renderer followed by bluemonday's UGC policy, the plain text and the
// Telegram HTML by walking the tree. Raw HTML in the Markdown is never passed
// through, and user text is only ever data to the embedded templates, so
// template syntax in a release is printed as typed.
package templates
