package decode

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// hintPrefix marks the decl tags decode reads; other tags are ignored.
const hintPrefix = "ecli:"

// hints are the parsed display hints of one struct/union member.
type hints struct {
	raw    []string // without prefix, BTF order
	name   string
	hasFmt bool
	fmt    fmtSpec
	order  int
	hasOrd bool
	hide   bool
	show   string
	sel    string
	cases  []string
	format string // "ipv4", "ipv6", "hex"
	mapped []mapEntry
	div    float64
	rel    bool
	unit   string
}

type mapEntry struct {
	val  int64
	text string
}

// columnOnly lists hints that only make sense on a top-level member.
var columnOnly = map[string]bool{"fmt": true, "order": true, "hide": true, "show": true}

// parseMemberHints parses the ecli: tags of a member. what names the member for errors.
func parseMemberHints(tags []string, what string) (*hints, error) {
	h := &hints{}
	seen := map[string]bool{}
	for _, tag := range tags {
		body, ok := strings.CutPrefix(tag, hintPrefix)
		if !ok {
			continue
		}
		key, val, hasVal := strings.Cut(body, "=")
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s: hint %q: %s: %w", what, tag, fmt.Sprintf(format, args...), ErrBadHint)
		}
		if seen[key] {
			return nil, bad("given twice")
		}
		seen[key] = true
		needVal := func() error {
			if !hasVal || val == "" {
				return bad("needs a value")
			}
			return nil
		}
		noVal := func() error {
			if hasVal {
				return bad("takes no value")
			}
			return nil
		}
		var err error
		switch key {
		case "name":
			if err = needVal(); err == nil {
				h.name = val
			}
		case "fmt":
			if err = needVal(); err == nil {
				h.fmt, err = parseFmt(val)
				if err != nil {
					err = bad("%v", err)
				}
				h.hasFmt = true
			}
		case "order":
			if err = needVal(); err == nil {
				var n int64
				n, err = strconv.ParseInt(val, 10, 32)
				if err != nil {
					err = bad("not an integer")
				}
				h.order, h.hasOrd = int(n), true
			}
		case "hide":
			err = noVal()
			h.hide = true
		case "show":
			if err = needVal(); err == nil {
				h.show = val
			}
		case "select":
			if err = needVal(); err == nil {
				h.sel = val
			}
		case "case":
			if err = needVal(); err == nil {
				h.cases = strings.Split(val, ",")
			}
		case "format":
			if err = needVal(); err == nil {
				switch val {
				case "ipv4", "ipv6", "hex":
					h.format = val
				default:
					err = bad("want ipv4, ipv6 or hex")
				}
			}
		case "map":
			if err = needVal(); err == nil {
				h.mapped, err = parseMap(val)
				if err != nil {
					err = bad("%v", err)
				}
			}
		case "div":
			if err = needVal(); err == nil {
				h.div, err = strconv.ParseFloat(val, 64)
				if err != nil || h.div == 0 || math.IsNaN(h.div) || math.IsInf(h.div, 0) {
					err = bad("want a non-zero number")
				}
			}
		case "rel":
			err = noVal()
			h.rel = true
		case "unit":
			if err = needVal(); err == nil {
				h.unit = val
			}
		case "time":
			err = bad("only valid on the struct itself")
		default:
			err = bad("unknown hint")
		}
		if err != nil {
			return nil, err
		}
		h.raw = append(h.raw, body)
	}
	switch {
	case h.format != "" && (h.mapped != nil || h.div != 0 || h.rel):
		return nil, fmt.Errorf("%s: format= cannot be combined with map=, div= or rel: %w", what, ErrBadHint)
	case h.mapped != nil && (h.div != 0 || h.rel):
		return nil, fmt.Errorf("%s: map= cannot be combined with div= or rel: %w", what, ErrBadHint)
	}
	return h, nil
}

// any reports whether h holds at least one hint.
func (h *hints) any() bool { return len(h.raw) > 0 }

// clockHints are the struct hints that shape the wall-clock TIME column of a hinted plan.
type clockHints struct {
	off    bool    // time=off
	show   string  // time=GLOBAL: shown only when the bool global is true
	spec   fmtSpec // time_fmt=%-Ns: cell and header width (default: 8 wide, one space after)
	hasFmt bool
	name   string // time_name=TEXT: header (default TIME); %Z is the zone (UTC or local)
	prec   int    // time_prec=N: digits of fractional seconds (0-9)
	utc    string // time_utc=GLOBAL: UTC instead of local time when the bool global is true
}

// parseStructHints parses the ecli: tags on the exported struct itself; n counts them.
func parseStructHints(tags []string, what string) (ch clockHints, n int, err error) {
	for _, tag := range tags {
		body, ok := strings.CutPrefix(tag, hintPrefix)
		if !ok {
			continue
		}
		n++
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s: hint %q: %s: %w", what, tag, fmt.Sprintf(format, args...), ErrBadHint)
		}
		key, val, _ := strings.Cut(body, "=")
		if val == "" {
			return ch, 0, bad("unknown struct hint (want time=, time_fmt=, time_name=, time_prec= or time_utc=)")
		}
		switch key {
		case "time":
			switch val {
			case "off":
				ch.off = true
			case "on":
			default:
				if !isIdent(val) {
					return ch, 0, bad("want off, on or the name of a bool global")
				}
				ch.show = val
			}
		case "time_fmt":
			spec, err := parseFmt(val)
			if err != nil || spec.verb != 's' {
				return ch, 0, bad("want %%[-][width]s")
			}
			ch.spec, ch.hasFmt = spec, true
		case "time_name":
			ch.name = val
		case "time_prec":
			p, err := strconv.Atoi(val)
			if err != nil || p < 0 || p > 9 {
				return ch, 0, bad("want 0 to 9 digits")
			}
			ch.prec = p
		case "time_utc":
			if !isIdent(val) {
				return ch, 0, bad("want the name of a bool global")
			}
			ch.utc = val
		default:
			return ch, 0, bad("unknown struct hint (want time=, time_fmt=, time_name=, time_prec= or time_utc=)")
		}
	}
	return ch, n, nil
}

// isIdent reports whether s is a C identifier.
func isIdent(s string) bool {
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func parseMap(val string) ([]mapEntry, error) {
	var out []mapEntry
	for _, pair := range strings.Split(val, ",") {
		k, v, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("entry %q: want VALUE:TEXT", pair)
		}
		n, err := parseInt(k)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", pair, err)
		}
		out = append(out, mapEntry{n, v})
	}
	return out, nil
}

// parseInt parses a decimal, 0x hex or negative integer; values up to MaxUint64 wrap.
func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return n, nil
	}
	u, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return int64(u), nil
}

// fmtSpec is a parsed restricted printf conversion: %[-][width][.prec]verb.
type fmtSpec struct {
	verb  byte // 0: none (default rendering), else d u x s f
	left  bool
	width int
	prec  int // -1: none
}

const maxWidth = 1024

func parseFmt(s string) (fmtSpec, error) {
	f := fmtSpec{prec: -1}
	if len(s) < 2 || s[0] != '%' {
		return f, fmt.Errorf("want %%[-][width][.prec]verb")
	}
	i := 1
	if s[i] == '-' {
		f.left = true
		i++
	}
	num := func() (int, bool) {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if j == i {
			return 0, false
		}
		n, err := strconv.Atoi(s[j:i])
		if err != nil || n > maxWidth {
			return 0, false
		}
		return n, true
	}
	if i < len(s) && s[i] >= '1' && s[i] <= '9' {
		n, ok := num()
		if !ok {
			return f, fmt.Errorf("width above %d", maxWidth)
		}
		f.width = n
	}
	if i < len(s) && s[i] == '.' {
		i++
		n, ok := num()
		if !ok {
			return f, fmt.Errorf("bad precision")
		}
		f.prec = n
	}
	if i != len(s)-1 {
		return f, fmt.Errorf("want %%[-][width][.prec]verb with one verb of d u x s f")
	}
	switch s[i] {
	case 'd', 'u', 'x', 's', 'f':
		f.verb = s[i]
	default:
		return f, fmt.Errorf("verb %q: want one of d u x s f", s[i])
	}
	return f, nil
}
