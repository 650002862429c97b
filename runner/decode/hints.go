package decode

import (
	"errors"
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
	format string // "ipv4", "ipv6", "hex", "argv", "signal", "wstatus"
	quote  string // quote=GLOBAL: format=argv quotes each string when the bool is true
	match  string // match=GLOBAL: events pass only if the text matches the regex in GLOBAL
	length string // len=MEMBER: a sibling integer holding how many bytes of a char array are set
	mapped []mapEntry
	div    float64
	rel    bool
}

type mapEntry struct {
	val  int64
	text string
}

// hintArg says whether a member hint takes a value.
type hintArg uint8

const (
	argNone     hintArg = iota // ecli:KEY
	argRequired                // ecli:KEY=VALUE, VALUE not empty
	argAny                     // either (the hint is refused whatever it carries)
)

// memberHint is one kind of member hint: its argument, whether it is only valid on a
// top-level member (a column), and how it is stored. set's error is the reason the hint is
// bad, without the member or the hint.
type memberHint struct {
	arg    hintArg
	column bool
	set    func(h *hints, val string) error
}

// memberHints are the hints a struct or union member may carry, by key.
var memberHints = map[string]memberHint{
	"name": {arg: argRequired, set: func(h *hints, v string) error { h.name = v; return nil }},
	"fmt": {arg: argRequired, column: true, set: func(h *hints, v string) (err error) {
		h.fmt, err = parseFmt(v)
		h.hasFmt = true
		return err
	}},
	"order": {arg: argRequired, column: true, set: func(h *hints, v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return errors.New("not an integer")
		}
		h.order, h.hasOrd = int(n), true
		return nil
	}},
	"hide": {arg: argNone, column: true, set: func(h *hints, _ string) error { h.hide = true; return nil }},
	"show": {arg: argRequired, column: true, set: func(h *hints, v string) error {
		if !isIdent(strings.TrimPrefix(v, "!")) {
			return errors.New("want GLOBAL or !GLOBAL")
		}
		h.show = v
		return nil
	}},
	"select": {arg: argRequired, set: func(h *hints, v string) error { h.sel = v; return nil }},
	"case":   {arg: argRequired, set: func(h *hints, v string) error { h.cases = strings.Split(v, ","); return nil }},
	"format": {arg: argRequired, set: func(h *hints, v string) error {
		switch v {
		case "ipv4", "ipv6", "hex", "argv", "signal", "wstatus":
			h.format = v
			return nil
		}
		return errors.New("want ipv4, ipv6, hex, argv, signal or wstatus")
	}},
	"quote": {arg: argRequired, set: func(h *hints, v string) error { return setIdent(&h.quote, v, "a bool global") }},
	"match": {arg: argRequired, column: true, set: func(h *hints, v string) error { return setIdent(&h.match, v, "a char[] global") }},
	"len":   {arg: argRequired, set: func(h *hints, v string) error { return setIdent(&h.length, v, "a sibling member") }},
	"map": {arg: argRequired, set: func(h *hints, v string) (err error) {
		h.mapped, err = parseMap(v)
		return err
	}},
	"div": {arg: argRequired, set: func(h *hints, v string) error {
		d, err := strconv.ParseFloat(v, 64)
		if err != nil || d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
			return errors.New("want a non-zero number")
		}
		h.div = d
		return nil
	}},
	"rel": {arg: argNone, set: func(h *hints, _ string) error { h.rel = true; return nil }},
	// unit is informational: kept in Field.Hints for ecli inspect.
	"unit": {arg: argRequired, set: func(*hints, string) error { return nil }},
	"time": {arg: argAny, set: func(*hints, string) error { return errors.New("only valid on the struct itself") }},
}

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
		bad := func(why string) error {
			return fmt.Errorf("%s: hint %q: %s: %w", what, tag, why, ErrBadHint)
		}
		if seen[key] {
			return nil, bad("given twice")
		}
		seen[key] = true
		mh, ok := memberHints[key]
		switch {
		case !ok:
			return nil, bad("unknown hint")
		case mh.arg == argRequired && (!hasVal || val == ""):
			return nil, bad("needs a value")
		case mh.arg == argNone && hasVal:
			return nil, bad("takes no value")
		}
		if err := mh.set(h, val); err != nil {
			return nil, bad(err.Error())
		}
		h.raw = append(h.raw, body)
	}
	switch {
	case h.quote != "" && h.format != "argv":
		return nil, fmt.Errorf("%s: quote= needs format=argv: %w", what, ErrBadHint)
	case h.format != "" && (h.mapped != nil || h.div != 0 || h.rel):
		return nil, fmt.Errorf("%s: format= cannot be combined with map=, div= or rel: %w", what, ErrBadHint)
	case h.mapped != nil && (h.div != 0 || h.rel):
		return nil, fmt.Errorf("%s: map= cannot be combined with div= or rel: %w", what, ErrBadHint)
	}
	return h, nil
}

// setIdent stores v in dst when it is a C identifier; want names what it must name.
func setIdent(dst *string, v, want string) error {
	if !isIdent(v) {
		return fmt.Errorf("want the name of %s", want)
	}
	*dst = v
	return nil
}

// any reports whether h holds at least one hint.
func (h *hints) any() bool { return len(h.raw) > 0 }

// clockHints are the struct hints that shape the wall-clock TIME column of a hinted plan.
type clockHints struct {
	off    bool    // time=off
	show   string  // time=GLOBAL[,GLOBAL…]: shown only when one of the bool globals is true
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
				for _, g := range strings.Split(val, ",") {
					if !isIdent(g) {
						return ch, 0, bad("want off, on or the names of bool globals (G1,G2: shown when any is true)")
					}
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
	verb  byte // 0: none (default rendering), else d u x o s f
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
		return f, fmt.Errorf("want %%[-][width][.prec]verb with one verb of d u x o s f")
	}
	switch s[i] {
	case 'd', 'u', 'x', 'o', 's', 'f':
		f.verb = s[i]
	default:
		return f, fmt.Errorf("verb %q: want one of d u x o s f", s[i])
	}
	return f, nil
}
