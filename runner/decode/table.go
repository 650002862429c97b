package decode

import (
	"strings"
	"time"
	"unicode/utf8"
)

// KV renders the entries of a sampled map from the plans of its key and value types, in
// eunomia's default_kv layout. Text lines are "HH:MM:SS {key} {value}" with key and value
// as JSON objects; JSON lines are {"key":…,"value":…}.
type KV struct {
	Key, Value *Plan
}

// Header returns the text header (no newline): TIME, then the key's and the value's field
// names upper-cased, each padded to 6 columns and followed by a space.
func (kv KV) Header() string {
	var b strings.Builder
	b.WriteString("TIME     ")
	for _, p := range []*Plan{kv.Key, kv.Value} {
		for _, f := range p.Fields() {
			name := strings.ToUpper(f.Name)
			b.WriteString(name)
			for n := utf8.RuneCountInString(name); n < 6; n++ {
				b.WriteByte(' ')
			}
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// AppendText appends the text line (no newline) of the entry key, val sampled at now.
func (kv KV) AppendText(dst []byte, now time.Time, key, val []byte) ([]byte, error) {
	h, m, s := now.Clock()
	dst = appendClock(dst, h, m, s)
	dst = append(dst, ' ')
	dst, err := kv.Key.AppendJSON(dst, key)
	if err != nil {
		return dst, err
	}
	dst = append(dst, ' ')
	return kv.Value.AppendJSON(dst, val)
}

// AppendJSON appends the JSON line (no newline) of the entry key, val.
func (kv KV) AppendJSON(dst, key, val []byte) ([]byte, error) {
	dst = append(dst, `{"key":`...)
	dst, err := kv.Key.AppendJSON(dst, key)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `,"value":`...)
	if dst, err = kv.Value.AppendJSON(dst, val); err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// AppendEntryText appends the text line (no newline) of a map entry for a table plan: one
// compiled over a struct of the key's fields followed by the value's (a "table" sample), so
// that it decodes the key's bytes followed by the value's.
func (p *Plan) AppendEntryText(dst, key, val []byte) ([]byte, error) {
	var stack [256]byte
	sample := append(append(stack[:0], key...), val...)
	return p.AppendText(dst, sample)
}
