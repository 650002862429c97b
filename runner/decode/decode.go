// Package decode turns raw event samples into text columns or JSON lines, purely from BTF.
//
// A [Plan] is compiled once per exported type with [Compile] or [CompileMembers]; per event,
// [Plan.AppendText] and [Plan.AppendJSON] append one line to a caller-supplied buffer and
// allocate nothing. Display hints are read from BTF decl tags of the form "ecli:KEY=VALUE"
// (see docs/package-format.md); a type without hints renders exactly like eunomia-bpf's ecli
// (see docs/decoding.md for the rules and the deliberate deviations).
//
// Only little-endian samples are supported.
package decode

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/cilium/ebpf/btf"
)

var (
	// ErrShortSample is returned when a sample is shorter than [Plan.Size].
	ErrShortSample = errors.New("sample shorter than its type")
	// ErrUnsupportedType is returned by Compile for types that cannot be decoded
	// (void, functions, data sections, forward declarations, odd sizes).
	ErrUnsupportedType = errors.New("unsupported type")
	// ErrBadHint is returned by Compile for an unknown, misplaced or malformed "ecli:" hint.
	ErrBadHint = errors.New("bad display hint")
	// ErrBadFilter is returned by Compile when the regular expression a match= hint takes
	// from a global does not compile.
	ErrBadFilter = errors.New("bad filter")
)

// Options configure a Plan.
type Options struct {
	// Flag reports the value of a bool global, for the `show=`, `fmt_if=`, `time=`,
	// `time_utc=` and `csv=` hints; nil means all false.
	// It is called during Compile only.
	Flag func(name string) bool
	// Time is the clock used for the TIME column; nil means time.Now.
	Time func() time.Time
	// ReadFile reads the file of a file=PATH hint (a path under FilePrefix) each time a
	// line is rendered; nil renders such members empty (decode itself reads no files).
	ReadFile func(path string) ([]byte, error)
	// Text reports the value of a global as text (a char[] global: its string), for
	// `match=GLOBAL` hints; nil or "" means no filter. It is called during Compile only.
	Text func(name string) string
}

// FilePrefix is where the files of file= hints must be: kernel state, not user data.
const FilePrefix = "/proc/"

// Member is one explicitly placed field for [CompileMembers].
type Member struct {
	// Name is the field name (JSON key, upper-cased for the text header).
	Name string
	// Offset is the field's offset in the sample, in bytes.
	Offset uint32
	// Type is the field's BTF type.
	Type btf.Type
}

// Field describes one top-level field of a Plan.
type Field struct {
	// Name is the field's JSON key.
	Name string
	// Column is the text header of the field.
	Column string
	// Offset is the byte offset of the field (of its first byte, for a bitfield).
	Offset uint32
	// Size is the number of bytes the field spans.
	Size uint32
	// BitOffset is the offset of the field in bits from the start of the sample.
	BitOffset btf.Bits
	// BitfieldSize is the width of a bitfield in bits, 0 for ordinary fields.
	BitfieldSize btf.Bits
	// Type is the field's BTF type as declared (typedefs and qualifiers not resolved).
	Type btf.Type
	// Hidden reports whether the text output leaves the field out (hide, or a false show=).
	Hidden bool
	// Hints are the field's display hints without the "ecli:" prefix, in BTF order.
	Hints []string
}

// Plan decodes samples of one type. It is compiled once and reused for every event.
//
// A Plan is not safe for concurrent use: the `rel` hint keeps the first event's value in it.
type Plan struct {
	filters []filter
	scratch []byte // text of a filtered member, reused
	name    string
	size    uint32
	root    *node
	fields  []Field
	hinted  bool
	timeCol bool
	clk     clockColumn
	cols    []column
	header  string
	now     func() time.Time
	csv     bool     // csv=GLOBAL is true: comma-separated cells, no padding
	tags    []string // the struct's decl tags (stack_* layout hints are read from them)
	textOps []fastOp // one per column (fast.go)
	jsonOps []fastOp // one per top-level member; nil: none (fast.go)
}

// filter is a match= hint: the event passes when the member's text matches re.
type filter struct {
	member int
	re     *regexp.Regexp
}

// column is one text column.
type column struct {
	member int // index into root.members
	start  int // eunomia: column start recorded from the header
	spec   fmtSpec
	sep    string // printed after the cell when another column follows (sep=; one space)
}

// Compile builds a plan for an exported type (a struct, or any other type which then decodes
// as one unnamed field). Hints come from decl tags on the struct and its members.
func Compile(t btf.Type, opts Options) (*Plan, error) {
	if t == nil {
		return nil, fmt.Errorf("compile plan: nil type: %w", ErrUnsupportedType)
	}
	name := typeName(t)
	c := &compiler{opts: opts}
	if s, ok := Underlying(t).(*btf.Struct); ok {
		return c.plan(name, s, s.Size)
	}
	field := t.TypeName()
	if field == "" {
		field = typeName(t)
	}
	if field == "" {
		field = "value"
	}
	sz, err := btf.Sizeof(t)
	if err != nil {
		return nil, fmt.Errorf("compile plan for %s: %w: %w", name, ErrUnsupportedType, err)
	}
	s := &btf.Struct{Name: name, Size: uint32(sz), Members: []btf.Member{{Name: field, Type: t}}}
	return c.plan(name, s, s.Size)
}

// CompileMembers builds a plan from explicit (name, offset, type) fields: eunomia's
// custom_members and the legacy member lists. Fields keep the given order. The plan's size is
// the larger of size and the end of the last field.
func CompileMembers(name string, size uint32, fields []Member, opts Options) (*Plan, error) {
	s := &btf.Struct{Name: name, Size: size}
	for i, f := range fields {
		if f.Type == nil {
			return nil, fmt.Errorf("compile plan for %s: field %q: nil type: %w", name, f.Name, ErrUnsupportedType)
		}
		if f.Name == "" {
			return nil, fmt.Errorf("compile plan for %s: field %d has no name: %w", name, i, ErrUnsupportedType)
		}
		sz, err := btf.Sizeof(f.Type)
		if err != nil {
			return nil, fmt.Errorf("compile plan for %s: field %q: %w: %w", name, f.Name, ErrUnsupportedType, err)
		}
		if end := uint64(f.Offset) + uint64(sz); end > uint64(s.Size) {
			if end > maxSize {
				return nil, fmt.Errorf("compile plan for %s: field %q ends at byte %d: %w", name, f.Name, end, ErrUnsupportedType)
			}
			s.Size = uint32(end)
		}
		s.Members = append(s.Members, btf.Member{Name: f.Name, Type: f.Type, Offset: btf.Bits(f.Offset) * 8})
	}
	c := &compiler{opts: opts}
	return c.plan(name, s, s.Size)
}

// Name returns the name of the decoded type.
func (p *Plan) Name() string { return p.name }

// Size returns the number of bytes a sample must have at least.
func (p *Plan) Size() uint32 { return p.size }

// Header returns the text header line (no newline).
func (p *Plan) Header() string { return p.header }

// Hinted reports whether the type carries ecli display hints (bcc-style text layout) rather
// than rendering like eunomia.
func (p *Plan) Hinted() bool { return p.hinted }

// Fields returns the top-level fields in struct order. The slice must not be modified.
func (p *Plan) Fields() []Field { return p.fields }

// AppendText appends one text line (no newline) for sample to dst.
func (p *Plan) AppendText(dst, sample []byte) ([]byte, error) {
	if len(sample) < int(p.size) {
		return dst, p.short(sample)
	}
	data := sample[:p.size]
	if !p.match(data) {
		return dst, nil
	}
	switch {
	case p.csv:
		return p.appendCSV(dst, data), nil
	case p.hinted:
		return p.appendBCC(dst, data), nil
	}
	return p.appendEunomia(dst, data), nil
}

// AppendJSON appends one JSON object (no newline) for sample to dst.
//
// AppendText and AppendJSON append nothing for a sample that a match= hint filters out
// (see [Plan.Match]).
func (p *Plan) AppendJSON(dst, sample []byte) ([]byte, error) {
	if len(sample) < int(p.size) {
		return dst, p.short(sample)
	}
	if !p.match(sample[:p.size]) {
		return dst, nil
	}
	if p.jsonOps != nil {
		return p.appendJSONFast(dst, sample[:p.size]), nil
	}
	return appendJSON(dst, p.root, sample[:p.size]), nil
}

// Match reports whether sample passes the plan's match= filters: every filtered member's
// text (as AppendFieldText renders it, without quote=) matches its regular expression.
// A plan without filters matches every sample; a short sample matches none.
func (p *Plan) Match(sample []byte) bool {
	return len(sample) >= int(p.size) && p.match(sample[:p.size])
}

func (p *Plan) match(data []byte) bool {
	for _, f := range p.filters {
		p.scratch = p.appendPlain(p.scratch[:0], data, f.member)
		if !f.re.Match(p.scratch) {
			return false
		}
	}
	return true
}

// AppendFieldText appends the text value of top-level field i (eunomia rendering: strings
// raw, numbers plain, everything else compact JSON; value hints such as format= applied, but
// not fmt=). It is meant for map sampling output such as log2_hist's "name = value" lines.
func (p *Plan) AppendFieldText(dst, sample []byte, i int) ([]byte, error) {
	if i < 0 || i >= len(p.root.members) {
		return dst, fmt.Errorf("decode %s: no field %d", p.name, i)
	}
	if len(sample) < int(p.size) {
		return dst, p.short(sample)
	}
	return p.appendCell(dst, sample[:p.size], i, fmtSpec{prec: -1}, true), nil
}

// AppendFieldJSON appends the JSON value of top-level field i.
func (p *Plan) AppendFieldJSON(dst, sample []byte, i int) ([]byte, error) {
	if i < 0 || i >= len(p.root.members) {
		return dst, fmt.Errorf("decode %s: no field %d", p.name, i)
	}
	if len(sample) < int(p.size) {
		return dst, p.short(sample)
	}
	return appendMemberJSON(dst, &p.root.members[i], sample[:p.size]), nil
}

func (p *Plan) short(sample []byte) error {
	return fmt.Errorf("decode %s: %d bytes, need %d: %w", p.name, len(sample), p.size, ErrShortSample)
}

func (p *Plan) clock() time.Time {
	var t time.Time
	if p.now != nil {
		t = p.now()
	} else {
		t = time.Now()
	}
	if p.clk.utc {
		return t.UTC()
	}
	return t
}

// clockColumn is the wall-clock TIME column of a hinted plan, resolved at Compile.
type clockColumn struct {
	spec fmtSpec // cell format; the default is 8 wide plus one separating space
	name string
	prec int
	utc  bool
	glue bool // time_fmt given: no space after the cell
	// second caches the text of the last second printed.
	second secondText
}
