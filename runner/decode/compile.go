package decode

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"
)

// maxSize bounds the size of a decodable type (and so of a sample).
const maxSize = math.MaxInt32

// maxDepth bounds nesting of structs/arrays and qualifier chains.
const maxDepth = 64

type kind uint8

const (
	kInt    kind = iota // integer of 1/2/4/8 bytes or a bitfield
	kBool               // bool, possibly a bitfield
	kEnum               // enum of 1/2/4/8 bytes or a bitfield
	kInt128             // 16-byte integer
	kFloat32
	kFloat64
	kPtr
	kString // char array
	kArray
	kStruct
	kUnion
)

// node is one compiled value. Offsets are relative to the parent's data.
type node struct {
	kind   kind
	off    uint32 // byte offset in the parent
	size   uint32 // bytes read, starting at off
	signed bool
	bitOff uint8 // bitfields: shift within the first byte
	bits   uint8 // bits of an integer value: 8*size, or the bitfield width

	enum    []btf.EnumValue
	elem    *node // arrays
	n       uint32
	members []member // structs, unions

	// tmpl: a nested struct whose members carry fmt=, sep= or hide renders in text as a
	// template of its members' cells (appendTemplate), not as JSON.
	tmpl bool

	// value hints
	format  string
	file    string                       // format "file": the path
	read    func(string) ([]byte, error) // format "file": Options.ReadFile
	quote   bool                         // format=argv: each string in double quotes (quote=GLOBAL was true)
	counted bool                         // len= gives the bytes in use: empty strings inside them count
	mapped  []mapEntry
	div     float64
	rel     bool
	relSet  bool
	relBase uint64

	// cell affixes (affix.go)
	empty    string
	above    int64
	hasAbove bool
}

// member is one struct/union member.
type member struct {
	name   string
	key    []byte // `"name":`
	node   *node
	sel    *selector
	length *node // len=: the sibling holding how many bytes of the char array are in use
	hints  *hints
	btf    btf.Member
	hidden bool
	suffix *suffixSpec // suffix=: a sibling's value appended to the text cell
}

// selector chooses a union arm from a sibling's value.
type selector struct {
	from *node // sibling, relative to the struct's data
	arms []armCase
}

type armCase struct {
	vals []uint64
	arm  int
}

type compiler struct {
	opts   Options
	hinted bool
}

func (c *compiler) plan(name string, s *btf.Struct, size uint32) (*Plan, error) {
	if name == "" {
		name = "anonymous struct"
	}
	what := "struct " + name
	ch, n, err := parseStructHints(s.Tags, what)
	if err != nil {
		return nil, fmt.Errorf("compile plan: %w", err)
	}
	if n > 0 {
		c.hinted = true
	}
	root, err := c.composite(s.Members, size, false, what, 0, true)
	if err != nil {
		return nil, fmt.Errorf("compile plan: %w", err)
	}
	root.kind = kStruct
	filters, err := c.filters(root, what)
	if err != nil {
		return nil, fmt.Errorf("compile plan: %w", err)
	}
	p := &Plan{
		filters: filters,
		name:    name,
		size:    size,
		root:    root,
		hinted:  c.hinted,
		tags:    s.Tags,
		timeCol: c.clockShown(ch),
		clk:     c.clockColumn(ch),
		now:     c.opts.Time,
		csv:     ch.csv != "" && c.flag(ch.csv),
	}
	for i := range root.members {
		m := &root.members[i]
		f := Field{
			Name:         m.name,
			Column:       columnName(m),
			Offset:       m.node.off,
			Size:         m.node.size,
			BitOffset:    m.btf.Offset,
			BitfieldSize: m.btf.BitfieldSize,
			Type:         m.btf.Type,
			Hidden:       m.hidden,
			Hints:        m.hints.raw,
		}
		p.fields = append(p.fields, f)
	}
	if p.hinted {
		p.buildBCC()
		if ch.header != "" && !p.csv {
			p.header = ch.header
		}
	} else {
		p.buildEunomia()
	}
	p.compileFast()
	return p, nil
}

// clockShown reports whether the TIME column is printed: not time=off, and one of the
// globals of time=G1,G2 true.
func (c *compiler) clockShown(ch clockHints) bool {
	if ch.off {
		return false
	}
	if ch.show == "" {
		return true
	}
	for _, g := range strings.Split(ch.show, ",") {
		if c.flag(g) {
			return true
		}
	}
	return false
}

func (c *compiler) flag(name string) bool { return c.opts.Flag != nil && c.opts.Flag(name) }

// filters compiles the match= hints of the top-level members: a regular expression held in
// a global (Options.Text); an empty global means no filter.
func (c *compiler) filters(root *node, what string) ([]filter, error) {
	var out []filter
	for i := range root.members {
		m := &root.members[i]
		if m.hints.match == "" || c.opts.Text == nil {
			continue
		}
		expr := c.opts.Text(m.hints.match)
		if expr == "" {
			continue
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("%s member %s: match=%s: regular expression %q: %v: %w", what, m.name, m.hints.match, expr, err, ErrBadFilter)
		}
		out = append(out, filter{member: i, re: re})
	}
	return out, nil
}

// clockColumn resolves the TIME column's format, header and zone from the struct hints.
func (c *compiler) clockColumn(ch clockHints) clockColumn {
	cc := clockColumn{spec: fmtSpec{left: true, width: 8, prec: -1}, name: "TIME", prec: ch.prec, utc: ch.utc != "" && c.flag(ch.utc)}
	if ch.hasFmt {
		cc.spec, cc.glue = ch.spec, true
	}
	if ch.name != "" {
		cc.name = ch.name
	}
	if strings.Contains(cc.name, "%Z") {
		zone := "UTC"
		if !cc.utc {
			zone, _ = c.now().Zone()
		}
		cc.name = strings.ReplaceAll(cc.name, "%Z", zone)
	}
	return cc
}

func (c *compiler) now() time.Time {
	if c.opts.Time != nil {
		return c.opts.Time()
	}
	return time.Now()
}

func columnName(m *member) string {
	if m.hints.name != "" {
		return m.hints.name
	}
	return strings.ToUpper(m.name)
}

func (p *Plan) buildEunomia() {
	var h strings.Builder
	h.WriteString("TIME     ")
	for i := range p.root.members {
		name := p.fields[i].Column
		p.cols = append(p.cols, column{member: i, start: h.Len()})
		h.WriteString(name)
		for n := len(name); n < 6; n++ {
			h.WriteByte(' ')
		}
		h.WriteByte(' ')
	}
	p.header = h.String()
}

func (p *Plan) buildBCC() {
	for i := range p.root.members {
		m := &p.root.members[i]
		if m.hidden {
			continue
		}
		spec := m.hints.fmt
		if !m.hints.hasFmt {
			// No fmt: left-aligned to the header's width.
			spec = fmtSpec{left: true, width: len([]rune(p.fields[i].Column)), prec: -1}
		}
		sep := " "
		if m.hints.hasSep {
			sep = m.hints.sep
		}
		p.cols = append(p.cols, column{member: i, spec: spec, sep: sep})
	}
	sort.SliceStable(p.cols, func(a, b int) bool {
		ha, hb := p.root.members[p.cols[a].member].hints, p.root.members[p.cols[b].member].hints
		if ha.hasOrd != hb.hasOrd {
			return ha.hasOrd
		}
		return ha.hasOrd && ha.order < hb.order
	})
	var h []byte
	if p.csv {
		p.header = string(p.csvHeader(h))
		return
	}
	if p.timeCol {
		h = appendPadded(h, []byte(p.clk.name), p.clk.spec, len(p.cols) == 0)
	}
	for i, col := range p.cols {
		switch {
		case i > 0:
			h = append(h, p.cols[i-1].sep...)
		case p.timeCol && !p.clk.glued():
			h = append(h, ' ')
		}
		spec := col.spec
		spec.prec = -1
		h = append(h, spec.pre...)
		h = appendPadded(h, []byte(p.fields[col.member].Column), spec, i == len(p.cols)-1 && spec.post == "")
		h = append(h, spec.post...)
	}
	p.header = string(h)
}

// csvHeader appends the CSV header: the column names (TIME first when shown) joined by
// commas, each quoted when it needs to be.
func (p *Plan) csvHeader(h []byte) []byte {
	if p.timeCol {
		h = appendCSVCell(h, len(h), []byte(p.clk.name))
	}
	for i, col := range p.cols {
		if i > 0 || p.timeCol {
			h = append(h, ',')
		}
		h = appendCSVCell(h, len(h), []byte(p.fields[col.member].Column))
	}
	return h
}

// composite compiles struct or union members. size is the composite's size in bytes.
func (c *compiler) composite(ms []btf.Member, size uint32, union bool, what string, depth int, top bool) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: nested too deeply: %w", what, ErrUnsupportedType)
	}
	n := &node{kind: kStruct, size: size}
	if union {
		n.kind = kUnion
	}
	anon := 0
	for _, bm := range ms {
		name := bm.Name
		label := bm.Name
		if label == "" {
			label = fmt.Sprintf("<anonymous %d>", anon)
		}
		mwhat := what + " member " + label
		h, err := parseMemberHints(bm.Tags, mwhat)
		if err != nil {
			return nil, err
		}
		if h.any() {
			c.hinted = true
		}
		if h.fmtIf != "" && c.flag(h.fmtIf) {
			h.fmt, h.hasFmt = h.fmtAlt, true
		}
		if !top {
			for _, r := range h.raw {
				k, _, _ := strings.Cut(r, "=")
				if memberHints[k].column {
					return nil, fmt.Errorf("%s: hint %q: only valid on top-level members: %w", mwhat, hintPrefix+r, ErrBadHint)
				}
			}
			if union && (h.hasFmt || h.hasSep || h.hide) {
				return nil, fmt.Errorf("%s: hints fmt=, sep= and hide are not valid on a union arm: %w", mwhat, ErrBadHint)
			}
			if h.hasFmt || h.hasSep || h.hide {
				n.tmpl = true
			}
		}
		if name == "" {
			if h.name != "" {
				name = strings.ToLower(h.name)
			} else {
				name = "anon" + strconv.Itoa(anon)
			}
			anon++
		}
		mn, err := c.member(bm, mwhat, depth)
		if err != nil {
			return nil, err
		}
		if uint64(mn.off)+uint64(mn.size) > uint64(size) {
			return nil, fmt.Errorf("%s: bytes %d..%d lie beyond the size %d: %w", mwhat, mn.off, uint64(mn.off)+uint64(mn.size), size, ErrUnsupportedType)
		}
		if err := applyValueHints(mn, h, mwhat); err != nil {
			return nil, err
		}
		mn.file, mn.read = h.file, c.opts.ReadFile
		if err := checkAffixHints(mn, h, mwhat); err != nil {
			return nil, err
		}
		m := member{name: name, key: appendJSONString(nil, []byte(name)), node: mn, hints: h, btf: bm}
		m.key = append(m.key, ':')
		m.hidden = h.hide
		if h.show != "" {
			cond, _ := parseCond(h.show) // checked when the hint was parsed
			if !cond.holds(c.opts.Flag) {
				m.hidden = true
			}
		}
		if h.quote != "" {
			mn.quote = c.flag(h.quote)
		}
		n.members = append(n.members, m)
	}
	// Resolve select= and len= against siblings, and check case= only appears under a select.
	for i := range n.members {
		m := &n.members[i]
		if m.hints.length != "" {
			if err := c.length(n, m, what); err != nil {
				return nil, err
			}
		}
		if m.hints.sel != "" {
			if union {
				return nil, fmt.Errorf("%s member %s: hint select: the selector must be a sibling in a struct, not a union: %w", what, m.name, ErrBadHint)
			}
			sel, err := c.selector(n, m, what)
			if err != nil {
				return nil, err
			}
			m.sel = sel
		} else if m.node.kind == kUnion {
			for _, arm := range m.node.members {
				if arm.hints.cases != nil {
					return nil, fmt.Errorf("%s member %s: arm %s has case= but the union has no select=: %w", what, m.name, arm.name, ErrBadHint)
				}
			}
		}
	}
	if err := resolveSuffixes(n, what); err != nil {
		return nil, err
	}
	if !union {
		for _, arm := range n.members {
			if arm.hints.cases != nil {
				return nil, fmt.Errorf("%s member %s: case= is only valid on a union arm: %w", what, arm.name, ErrBadHint)
			}
		}
	}
	return n, nil
}

// length resolves the len=MEMBER hint of m: an integer sibling in the same struct.
func (c *compiler) length(parent *node, m *member, what string) error {
	mwhat := what + " member " + m.name
	if parent.kind == kUnion {
		return fmt.Errorf("%s: hint len=%s: the length must be a sibling in a struct, not a union: %w", mwhat, m.hints.length, ErrBadHint)
	}
	if m.node.kind != kString {
		return fmt.Errorf("%s: hint len=%s: needs a char array: %w", mwhat, m.hints.length, ErrBadHint)
	}
	for i := range parent.members {
		from := &parent.members[i]
		if from.name != m.hints.length || from == m {
			continue
		}
		if from.node.kind != kInt {
			return fmt.Errorf("%s: hint len=%s: not an integer: %w", mwhat, m.hints.length, ErrBadHint)
		}
		m.length, m.node.counted = from.node, true
		return nil
	}
	return fmt.Errorf("%s: hint len=%s: no such sibling member: %w", mwhat, m.hints.length, ErrBadHint)
}

func (c *compiler) selector(parent *node, m *member, what string) (*selector, error) {
	mwhat := what + " member " + m.name
	if m.node.kind != kUnion {
		return nil, fmt.Errorf("%s: hint select: member is not a union: %w", mwhat, ErrBadHint)
	}
	var from *member
	for i := range parent.members {
		if parent.members[i].name == m.hints.sel {
			from = &parent.members[i]
		}
	}
	if from == nil || from == m {
		return nil, fmt.Errorf("%s: hint select=%s: no such sibling member: %w", mwhat, m.hints.sel, ErrBadHint)
	}
	switch from.node.kind {
	case kInt, kEnum, kBool:
	default:
		return nil, fmt.Errorf("%s: hint select=%s: selector is not an integer or enum: %w", mwhat, m.hints.sel, ErrBadHint)
	}
	s := &selector{from: from.node}
	for i, arm := range m.node.members {
		var ac armCase
		ac.arm = i
		for _, v := range arm.hints.cases {
			n, err := parseInt(v)
			if err != nil && from.node.kind == kEnum {
				for _, ev := range from.node.enum {
					if ev.Name == v {
						n, err = int64(signExtend(ev.Value&mask(from.node.bits), from.node.bits, from.node.signed)), nil
					}
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%s: arm %s: hint case=%s: %v: %w", mwhat, arm.name, v, err, ErrBadHint)
			}
			ac.vals = append(ac.vals, uint64(n))
		}
		if ac.vals != nil {
			s.arms = append(s.arms, ac)
		}
	}
	return s, nil
}

// member compiles the type of a struct/union member, including bitfields.
func (c *compiler) member(bm btf.Member, what string, depth int) (*node, error) {
	if bm.Type == nil {
		return nil, fmt.Errorf("%s: no type: %w", what, ErrUnsupportedType)
	}
	if bm.BitfieldSize == 0 && bm.Offset%8 == 0 {
		n, err := c.compile(bm.Type, what, depth+1)
		if err != nil {
			return nil, err
		}
		n.off = uint32(bm.Offset / 8)
		return n, nil
	}
	// Bitfield.
	n, err := c.compile(bm.Type, what, depth+1)
	if err != nil {
		return nil, err
	}
	switch n.kind {
	case kInt, kEnum, kBool:
	default:
		return nil, fmt.Errorf("%s: bitfield of a non-integer type: %w", what, ErrUnsupportedType)
	}
	bits := uint64(bm.BitfieldSize)
	if bits == 0 {
		bits = uint64(n.size) * 8
	}
	if bits > 64 {
		return nil, fmt.Errorf("%s: bitfield of %d bits: %w", what, bits, ErrUnsupportedType)
	}
	n.off = uint32(bm.Offset / 8)
	n.bitOff = uint8(bm.Offset % 8)
	n.bits = uint8(bits)
	n.size = uint32((uint64(n.bitOff) + bits + 7) / 8)
	return n, nil
}

func (c *compiler) compile(t btf.Type, what string, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: nested too deeply: %w", what, ErrUnsupportedType)
	}
	switch v := Underlying(t).(type) {
	case *btf.Int:
		switch v.Size {
		case 1, 2, 4, 8:
			n := &node{kind: kInt, size: v.Size, bits: uint8(v.Size * 8), signed: v.Encoding == btf.Signed}
			if v.Encoding == btf.Bool {
				n.kind = kBool
			}
			return n, nil
		case 16:
			return &node{kind: kInt128, size: 16, signed: v.Encoding == btf.Signed}, nil
		}
		return nil, fmt.Errorf("%s: integer %q of %d bytes: %w", what, v.Name, v.Size, ErrUnsupportedType)
	case *btf.Enum:
		switch v.Size {
		case 1, 2, 4, 8:
			return &node{kind: kEnum, size: v.Size, bits: uint8(v.Size * 8), signed: v.Signed, enum: v.Values}, nil
		}
		return nil, fmt.Errorf("%s: enum %q of %d bytes: %w", what, v.Name, v.Size, ErrUnsupportedType)
	case *btf.Float:
		switch v.Size {
		case 4:
			return &node{kind: kFloat32, size: 4}, nil
		case 8:
			return &node{kind: kFloat64, size: 8}, nil
		}
		return nil, fmt.Errorf("%s: float %q of %d bytes: %w", what, v.Name, v.Size, ErrUnsupportedType)
	case *btf.Pointer:
		return &node{kind: kPtr, size: 8, bits: 64}, nil
	case *btf.Array:
		if e, ok := Underlying(v.Type).(*btf.Int); ok && e.Size == 1 && (e.Name == "char" || e.Encoding == btf.Char) {
			return &node{kind: kString, size: v.Nelems, n: v.Nelems}, nil
		}
		elem, err := c.compile(v.Type, what, depth+1)
		if err != nil {
			return nil, err
		}
		total := uint64(elem.size) * uint64(v.Nelems)
		if total > maxSize {
			return nil, fmt.Errorf("%s: array of %d bytes: %w", what, total, ErrUnsupportedType)
		}
		n := v.Nelems
		if elem.size == 0 {
			// Elements without bytes carry no data; do not let a huge count of them blow up
			// every line.
			n = 0
		}
		return &node{kind: kArray, size: uint32(total), elem: elem, n: n}, nil
	case *btf.Struct:
		return c.composite(v.Members, v.Size, false, what+" (struct "+v.Name+")", depth+1, false)
	case *btf.Union:
		return c.composite(v.Members, v.Size, true, what+" (union "+v.Name+")", depth+1, false)
	case nil:
		return nil, fmt.Errorf("%s: no type: %w", what, ErrUnsupportedType)
	default:
		return nil, fmt.Errorf("%s: cannot decode %v: %w", what, v, ErrUnsupportedType)
	}
}

// applyValueHints checks value hints against the node they apply to and stores them.
func applyValueHints(n *node, h *hints, what string) error {
	intLike := n.kind == kInt || n.kind == kEnum || n.kind == kBool
	bad := func(hint, why string) error {
		return fmt.Errorf("%s: hint %s: %s: %w", what, hint, why, ErrBadHint)
	}
	switch h.format {
	case "":
	case "hex":
		if !intLike && n.kind != kPtr {
			return bad("format=hex", "needs an integer")
		}
	case "ipv4":
		if n.bits%8 != 0 || n.bitOff != 0 || n.size != 4 || !(n.kind == kInt || n.kind == kArray || n.kind == kString) {
			return bad("format=ipv4", "needs a 4-byte integer or array")
		}
	case "ipv6":
		if n.size != 16 || !(n.kind == kInt128 || n.kind == kArray || n.kind == kString) {
			return bad("format=ipv6", "needs a 16-byte array")
		}
	case "argv":
		if n.kind != kString {
			return bad("format=argv", "needs a char array")
		}
	case "signal", "wstatus":
		if n.kind != kInt && n.kind != kEnum {
			return bad("format="+h.format, "needs an integer")
		}
	case "cstring":
		if n.kind != kString {
			return bad("format=cstring", "needs a char array")
		}
	case "file":
		if n.kind != kString {
			return bad("file", "needs a char array (its bytes are not shown)")
		}
	case "flags", "enum":
		if n.kind != kEnum {
			return bad("format="+h.format, "needs an enum type (its enumerators name the values)")
		}
	}
	if (h.mapped != nil || h.div != 0 || h.rel) && !intLike {
		return bad("map/div/rel", "needs an integer")
	}
	n.format, n.mapped, n.div, n.rel = h.format, h.mapped, h.div, h.rel
	if h.hasFmt {
		if err := checkVerb(n, h.fmt.verb); err != nil {
			return bad("fmt", err.Error())
		}
	}
	if h.fmtIf != "" {
		if err := checkVerb(n, h.fmtAlt.verb); err != nil {
			return bad("fmt_if", err.Error())
		}
	}
	if h.sel != "" && n.kind != kUnion {
		return bad("select", "member is not a union")
	}
	return nil
}

// checkVerb reports whether a fmt verb can render node n.
func checkVerb(n *node, verb byte) error {
	switch verb {
	case 's':
	case 'd':
		if !numeric(n) && n.kind != kInt128 && n.mapped == nil {
			return errors.New("%d: value is not a number (use %s)")
		}
	case 'u', 'x', 'o':
		// map= prints unmapped values by the verb
		if !numeric(n) && n.mapped == nil {
			return fmt.Errorf("%%%c: value is not a number (use %%s)", verb)
		}
	default:
		if !numeric(n) {
			return fmt.Errorf("%%%c: value is not a number (use %%s)", verb)
		}
	}
	return nil
}

// numeric reports whether n renders as a number that numeric printf verbs can format.
func numeric(n *node) bool {
	if n.format != "" || n.mapped != nil {
		return false
	}
	switch n.kind {
	case kInt, kBool, kEnum, kFloat32, kFloat64, kPtr:
		return true
	}
	return false
}
