package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jsonLevel is one open object or array while walking a JSON value.
type jsonLevel struct {
	object bool
	keys   map[string]bool // an object's keys so far
	key    string          // an object's current key
	index  int             // an array's current index
	path   string          // the path of the object or array itself
}

// childPath returns the path of the value the level is at.
func (l *jsonLevel) childPath() string {
	if l.object {
		if l.path == "" {
			return l.key
		}
		return l.path + "." + l.key
	}
	return fmt.Sprintf("%s[%d]", l.path, l.index)
}

// duplicateKey walks one valid JSON value and returns the path of the first
// object member whose name repeats an earlier one in the same object (like
// "title" or "translations[1].language"), and the offset just after it.
// found is false when no name repeats.
func duplicateKey(data []byte) (path string, off int64, found bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*jsonLevel
	expectKey := false // the next string token is an object member's name
	// valueDone moves the enclosing level past the value that just ended.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if top := stack[n-1]; top.object {
				expectKey = true
			} else {
				top.index++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", 0, false // the end, or invalid JSON, which Decode reported
		}
		var top *jsonLevel
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				p := ""
				if top != nil {
					p = top.childPath()
				}
				stack = append(stack, &jsonLevel{object: t == '{', keys: map[string]bool{}, path: p})
				expectKey = t == '{'
			case '}', ']':
				stack = stack[:len(stack)-1]
				expectKey = false
				valueDone()
			}
		case string:
			if expectKey && top != nil && top.object {
				if top.keys[t] {
					top.key = t
					return top.childPath(), dec.InputOffset(), true
				}
				top.keys[t] = true
				top.key = t
				expectKey = false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
