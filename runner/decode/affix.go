package decode

import "fmt"

// Cell affixes: text shown in place of an empty string (empty=), a threshold below which a
// number's text cell is left empty (above=), and a sibling member's value appended to a
// column's cell (suffix=, suffix_fmt=). They shape text output only; JSON keeps every
// member's plain value.

// suffixSpec is a suffix=MEMBER hint resolved against the member's siblings.
type suffixSpec struct {
	from *node   // the sibling, relative to the struct's data
	spec fmtSpec // how its value is formatted (suffix_fmt, literal text included)
}

// checkAffixHints checks empty= and above= against the node they apply to and stores them.
func checkAffixHints(n *node, h *hints, what string) error {
	if h.hasEmpty {
		if n.kind != kString {
			return fmt.Errorf("%s: hint empty: needs a char array: %w", what, ErrBadHint)
		}
		n.empty = h.empty
	}
	if h.hasAbove {
		if n.kind != kInt && n.kind != kEnum && n.kind != kBool {
			return fmt.Errorf("%s: hint above: needs an integer: %w", what, ErrBadHint)
		}
		n.above, n.hasAbove = h.above, true
	}
	return nil
}

// resolveSuffixes resolves the suffix= hints of a struct's top-level members.
func resolveSuffixes(parent *node, what string) error {
	for i := range parent.members {
		m := &parent.members[i]
		if m.hints.suffix == "" {
			if m.hints.hasSuffixFmt {
				return fmt.Errorf("%s member %s: hint suffix_fmt needs suffix=MEMBER: %w", what, m.name, ErrBadHint)
			}
			continue
		}
		var from *member
		for j := range parent.members {
			if parent.members[j].name == m.hints.suffix && j != i {
				from = &parent.members[j]
			}
		}
		if from == nil {
			return fmt.Errorf("%s member %s: hint suffix=%s: no such sibling member: %w", what, m.name, m.hints.suffix, ErrBadHint)
		}
		if !numeric(from.node) && from.node.kind != kString {
			return fmt.Errorf("%s member %s: hint suffix=%s: the sibling is not a number or string: %w", what, m.name, m.hints.suffix, ErrBadHint)
		}
		s := &suffixSpec{from: from.node, spec: fmtSpec{prec: -1}}
		if m.hints.hasSuffixFmt {
			s.spec = m.hints.suffixSpec
			if s.spec.verb != 's' && !numeric(from.node) {
				return fmt.Errorf("%s member %s: hint suffix_fmt: %s is not a number (use %%s): %w", what, m.name, from.name, ErrBadHint)
			}
		}
		m.suffix = s
	}
	return nil
}

// belowThreshold reports whether an integer node with an above= hint holds a value that does
// not pass it (its text cell is then empty). d holds the node's bytes.
func belowThreshold(n *node, d []byte) bool {
	if !n.hasAbove {
		return false
	}
	v := readUint(n, d)
	if n.signed {
		return int64(v) <= n.above
	}
	return v <= uint64(n.above)
}

// appendEmpty appends the empty= text of a string node whose value is empty.
func appendEmpty(dst []byte, n *node, s []byte) ([]byte, bool) {
	if len(s) != 0 || n.empty == "" {
		return dst, false
	}
	return append(dst, n.empty...), true
}

// appendSuffix appends the suffix of member m (whose parent's data is d), unless the
// sibling's value is below its threshold or renders as empty text.
func appendSuffix(dst []byte, s *suffixSpec, d []byte) []byte {
	sd := d[s.from.off : s.from.off+s.from.size]
	if belowThreshold(s.from, sd) {
		return dst
	}
	start := len(dst)
	dst = append(dst, s.spec.pre...)
	mark := len(dst)
	if s.spec.verb != 0 && s.spec.verb != 's' && numeric(s.from) {
		dst = appendScalar(dst, s.from, sd, s.spec)
	} else {
		dst = appendText(dst, s.from, sd)
	}
	if len(dst) == mark {
		return dst[:start] // nothing to show: no literal text either
	}
	dst = pad(dst, mark, s.spec, false)
	return append(dst, s.spec.post...)
}
