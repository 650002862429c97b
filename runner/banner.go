package runner

import (
	"errors"
	"fmt"
	"strings"
)

// banner is a parsed sample.banner / sample.footer: literal text with option placeholders.
//
//	{NAME}       the option's value as given (else its default)
//	{NAME?TEXT}  TEXT when the bool option NAME is true, or a non-bool option NAME was given
//	{NAME!TEXT}  TEXT otherwise
//
// TEXT may hold placeholders itself; "{{" and "}}" are literal braces.
type banner []bannerPart

type bannerPart struct {
	lit  string
	name string
	cond byte   // 0: the value; '?' or '!': sub when the option is set / not set
	sub  banner // the TEXT of a condition
}

var errBanner = errors.New("bad placeholder")

// parseBanner parses s; names are the placeholders' option names, in order.
func parseBanner(s string) (b banner, names []string, err error) {
	b, rest, names, err := parseBannerUntil(s, false)
	if err == nil && rest != "" {
		err = fmt.Errorf("%w: unmatched }", errBanner)
	}
	return b, names, err
}

// parseBannerUntil parses up to an unmatched '}' (when nested) or the end; it returns the
// text after the part it parsed (starting at that '}').
func parseBannerUntil(s string, nested bool) (banner, string, []string, error) {
	var b banner
	var names []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			b = append(b, bannerPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "{{"), strings.HasPrefix(s, "}}"):
			lit.WriteByte(s[0])
			s = s[2:]
		case s[0] == '}':
			if !nested {
				return nil, "", nil, fmt.Errorf("%w: unmatched } (}} for a brace)", errBanner)
			}
			flush()
			return b, s, names, nil
		case s[0] == '{':
			flush()
			end := strings.IndexAny(s, "?!}")
			if end < 0 {
				return nil, "", nil, fmt.Errorf("%w: unclosed {", errBanner)
			}
			p := bannerPart{name: s[1:end]}
			if !isCIdent(p.name) {
				return nil, "", nil, fmt.Errorf("%w: {%s: want {NAME}, {NAME?TEXT} or {NAME!TEXT}", errBanner, s[1:end])
			}
			names = append(names, p.name)
			s = s[end:]
			if s[0] != '}' {
				p.cond = s[0]
				sub, rest, subNames, err := parseBannerUntil(s[1:], true)
				if err != nil {
					return nil, "", nil, err
				}
				if rest == "" {
					return nil, "", nil, fmt.Errorf("%w: unclosed {%s%c", errBanner, p.name, p.cond)
				}
				p.sub, s = sub, rest
				names = append(names, subNames...)
			}
			s = s[1:] // the closing }
			b = append(b, p)
		default:
			lit.WriteByte(s[0])
			s = s[1:]
		}
	}
	if nested {
		return b, "", names, nil
	}
	flush()
	return b, "", names, nil
}

func isCIdent(s string) bool {
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// render writes the banner with the values of v.
func (b banner) render(v *Values) string {
	var sb strings.Builder
	b.renderTo(&sb, v)
	return sb.String()
}

func (b banner) renderTo(sb *strings.Builder, v *Values) {
	for _, p := range b {
		switch {
		case p.name == "":
			sb.WriteString(p.lit)
		case p.cond == 0:
			sb.WriteString(v.text(p.name))
		case v.set(p.name) == (p.cond == '?'):
			p.sub.renderTo(sb, v)
		}
	}
}
