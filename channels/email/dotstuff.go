package email

import "bytes"

// appendData appends msg to dst as the content of an SMTP DATA command,
// terminating dot included (RFC 5321 4.5.2): a '.' at the start of a line
// is doubled, a bare LF becomes CRLF, and the message ends with CRLF "."
// CRLF. The output is byte for byte what net/textproto's DotWriter writes for
// msg, but found a line at a time with bytes.IndexByte instead of a byte at a
// time through bufio.Writer.WriteByte, so the message goes to the
// connection in one large write.
func appendData(dst, msg []byte) []byte {
	if len(msg) == 0 {
		return append(dst, "\r\n.\r\n"...)
	}
	for len(msg) > 0 {
		if msg[0] == '.' {
			dst = append(dst, '.')
		}
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			// The last line, without a line break.
			dst = append(dst, msg...)
			if endsInCR(msg) {
				return append(dst, "\n.\r\n"...)
			}
			return append(dst, "\r\n.\r\n"...)
		}
		dst = append(dst, msg[:i]...)
		if endsInCR(msg[:i]) {
			dst = append(dst, '\n')
		} else {
			dst = append(dst, '\r', '\n')
		}
		msg = msg[i+1:]
	}
	return append(dst, ".\r\n"...)
}

// endsInCR reports whether line ends in a CR that, followed by LF, makes a
// CRLF as DotWriter sees it: an odd run of CRs (DotWriter pairs a CR after a
// CR with nothing, and writes an LF after it as CRLF).
func endsInCR(line []byte) bool {
	n := 0
	for n < len(line) && line[len(line)-1-n] == '\r' {
		n++
	}
	return n%2 == 1
}
