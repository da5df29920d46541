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
//
// Three things are read from the Markdown beyond CommonMark and GitHub's
// extensions: a front matter block at the start of the body ("place:" and
// "date:") that gives the dateline opening the first paragraph; a "###"
// alone on a line, the press-release end mark, kept as such rather than as
// an empty heading; and images, which become links so that an email loads
// nothing from other hosts. The organisation's "About" text (WithAbout)
// follows the body in every output.
package templates
