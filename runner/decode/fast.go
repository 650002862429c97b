package decode

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
)

// The fast paths: at Compile, each text column and each top-level JSON member whose
// rendering is one of a few common, fully understood cases (a whole integer, bool, enum or
// pointer, a char array, an ipv4/ipv6 address, a printf-formatted number, a union arm chosen
// by select= among such cases) gets a precomputed op with absolute offsets; every other case
// is an op that calls the generic renderer, so the output is the same bytes either way.

// valKind is how a fast op renders its value.
type valKind uint8

const (
	vGeneric valKind = iota // the generic renderer (appendMemberCell, appendMemberJSON)
	vInt                    // whole integer, decimal
	vBool                   // true / false
	vEnum                   // NAME(value), quoted in JSON
	vPtr                    // 0x..., quoted in JSON
	vString                 // char array up to its NUL
	vIPv4                   // format=ipv4, quoted in JSON
	vIPv6                   // format=ipv6, quoted in JSON
	vScalar                 // text only: printf verb, map=, div= or rel on a whole integer
	vDec                    // text only: %d of a whole integer without map=, div= or rel
	vMapped                 // text only: map= of a whole integer
	vDivF                   // text only: %f of a whole integer's div= quotient, no rel
	vSel                    // select=: the arm's op
)

// fastOp renders one top-level member.
type fastOp struct {
	kind   valKind
	off    uint32 // absolute offset of the value in the sample
	size   uint32
	signed bool
	n      *node
	m      *member
	arms   []fastOp   // vSel: one op per union arm, none of them vGeneric or vSel
	key    string     // JSON: `{"name":` for the first member, `,"name":` after
	enum   []enumText // vEnum: each enumerator's rendering
	// text cells
	spec   fmtSpec
	last   bool   // the line's last cell
	padded bool   // spec has a width or a %s precision
	ascii  bool   // the value's text is always ASCII
	prefix string // appendBCC: what precedes the cell (the previous column's sep)
}

// enumText is an enumerator's NAME(value), in JSON quotes, for values v with v&mask == val.
type enumText struct {
	val  uint64
	text string
}

// enumTexts renders each enumerator of whole enum n as appendEnum does for its value.
func enumTexts(n *node) []enumText {
	m := mask(n.bits)
	var out []enumText
	for _, e := range n.enum {
		v := signExtend(e.Value&m, n.bits, n.signed)
		text := appendEnum([]byte{'"'}, n, v)
		out = append(out, enumText{val: e.Value & m, text: string(append(text, '"'))})
	}
	return out
}

// enumText returns the text of the first enumerator matching v (as appendEnum picks it), or
// nil.
func (op *fastOp) enumText(v uint64) *enumText {
	m := mask(op.n.bits)
	for i := range op.enum {
		if op.enum[i].val == v&m {
			return &op.enum[i]
		}
	}
	return nil
}

// whole reports whether n is an integer-like value read from whole bytes (no bitfield).
func whole(n *node) bool {
	switch n.kind {
	case kInt, kBool, kEnum, kPtr:
	default:
		return false
	}
	switch n.size {
	case 1, 2, 4, 8:
	default:
		return false
	}
	return n.bitOff == 0 && int(n.bits) == int(n.size)*8
}

// readWhole reads a whole integer of size bytes at d[off:], sign-extended when signed.
func readWhole(d []byte, off, size uint32, signed bool) uint64 {
	switch size {
	case 1:
		if signed {
			return uint64(int64(int8(d[off])))
		}
		return uint64(d[off])
	case 2:
		v := binary.LittleEndian.Uint16(d[off:])
		if signed {
			return uint64(int64(int16(v)))
		}
		return uint64(v)
	case 4:
		v := binary.LittleEndian.Uint32(d[off:])
		if signed {
			return uint64(int64(int32(v)))
		}
		return uint64(v)
	}
	return binary.LittleEndian.Uint64(d[off:])
}

// plainOp returns the op of node n at absolute offset off for the value renderings shared
// by text (appendText) and JSON (appendJSON), or vGeneric.
func plainOp(n *node, off uint32) fastOp {
	op := fastOp{off: off, size: n.size, signed: n.signed, n: n}
	switch n.format {
	case "ipv4":
		op.kind = vIPv4
		return op
	case "ipv6":
		op.kind = vIPv6
		return op
	case "":
	default:
		return fastOp{}
	}
	if n.mapped != nil || n.div != 0 || n.rel {
		return fastOp{} // text renders these by appendScalar
	}
	switch {
	case n.kind == kString && n.empty == "":
		op.kind = vString
	case !whole(n):
		return fastOp{}
	case n.kind == kInt:
		op.kind = vInt
	case n.kind == kBool:
		op.kind = vBool
	case n.kind == kEnum:
		op.kind = vEnum
		op.enum = enumTexts(n)
	case n.kind == kPtr:
		op.kind = vPtr
	}
	return op
}

// selOp returns the vSel op of member m (select=) when every arm has a plain op.
func selOp(m *member) fastOp {
	op := fastOp{kind: vSel, m: m}
	for i := range m.node.members {
		arm := &m.node.members[i]
		a := plainOp(arm.node, m.node.off+arm.node.off)
		if a.kind == vGeneric || arm.length != nil {
			return fastOp{m: m}
		}
		op.arms = append(op.arms, a)
	}
	return op
}

// cellOp returns the text op of top-level member m rendered with spec, following
// appendMemberCell's cases.
func cellOp(m *member, spec fmtSpec) fastOp {
	n := m.node
	var op fastOp
	switch {
	case m.suffix != nil || n.hasAbove || m.length != nil:
	case m.sel != nil:
		if len(n.members) > 0 {
			op = selOp(m)
		}
	case (spec.verb != 0 && spec.verb != 's' && numeric(n)) || (n.format == "" && (n.mapped != nil || n.div != 0 || n.rel)):
		if whole(n) {
			op = fastOp{kind: scalarKind(n, spec), off: n.off, size: n.size, signed: n.signed, n: n}
		}
	default:
		op = plainOp(n, n.off)
	}
	op.m = m
	return op
}

// scalarKind picks the op of a whole integer that appendScalar renders.
func scalarKind(n *node, spec fmtSpec) valKind {
	switch {
	case n.mapped != nil:
		return vMapped
	case n.rel:
		return vScalar
	case n.div != 0 && spec.verb == 'f' && n.kind == kInt:
		return vDivF
	case n.div == 0 && spec.verb == 'd' && spec.prec < 0:
		return vDec
	}
	return vScalar
}

// asciiOut reports whether the op's text is ASCII whatever the sample (padding can then
// count bytes).
func (op *fastOp) asciiOut() bool {
	switch op.kind {
	case vInt, vBool, vPtr, vIPv4, vIPv6, vDec, vDivF:
		return true
	case vSel:
		for i := range op.arms {
			if !op.arms[i].asciiOut() {
				return false
			}
		}
		return true
	}
	return false
}

// jsonOp returns the JSON op of top-level member m, following appendMemberJSON's cases.
func jsonOp(m *member) fastOp {
	var op fastOp
	switch {
	case m.length != nil: // len=: memberData cuts the bytes
	case m.sel != nil && len(m.node.members) > 0:
		op = selOp(m)
	case m.node.format == "" || m.node.format == "ipv4" || m.node.format == "ipv6":
		// appendJSON ignores map=, div= and rel: plainOp's text-only exclusion is lifted.
		n := *m.node
		n.mapped, n.div, n.rel = nil, 0, false
		op = plainOp(&n, m.node.off)
		op.n = m.node
	}
	op.m = m
	return op
}

// compileFast builds the plan's text ops (one per column) and JSON ops.
func (p *Plan) compileFast() {
	p.textOps = make([]fastOp, len(p.cols))
	for i, col := range p.cols {
		spec := col.spec
		if !p.hinted {
			spec = fmtSpec{prec: -1}
		}
		op := cellOp(&p.root.members[col.member], spec)
		op.spec, op.last = spec, !p.hinted || i == len(p.cols)-1
		op.padded = spec.width > 0 || (spec.verb == 's' && spec.prec >= 0)
		op.ascii = op.asciiOut()
		switch {
		case i > 0:
			op.prefix = p.cols[i-1].sep
		case p.timeCol && !p.clk.glued():
			op.prefix = " "
		}
		p.textOps[i] = op
	}
	if len(p.root.members) == 0 {
		return
	}
	p.jsonOps = make([]fastOp, len(p.root.members))
	for i := range p.root.members {
		m := &p.root.members[i]
		op := jsonOp(m)
		if i == 0 {
			op.key = "{" + string(m.key)
		} else {
			op.key = "," + string(m.key)
		}
		p.jsonOps[i] = op
	}
}

// appendValueText renders a plain op's value as text (appendText's rendering).
func (op *fastOp) appendValueText(dst, data []byte) []byte {
	switch op.kind {
	case vInt:
		v := readWhole(data, op.off, op.size, op.signed)
		if op.signed {
			return strconv.AppendInt(dst, int64(v), 10)
		}
		return strconv.AppendUint(dst, v, 10)
	case vBool:
		if readWhole(data, op.off, op.size, false) != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case vEnum:
		if e := op.enumText(readWhole(data, op.off, op.size, op.signed)); e != nil {
			return append(dst, e.text[1:len(e.text)-1]...)
		}
		return appendEnum(dst, op.n, readWhole(data, op.off, op.size, op.signed))
	case vPtr:
		return appendHex(dst, readWhole(data, op.off, op.size, op.signed))
	case vString:
		return appendTextString(dst, cstr(data[op.off:op.off+op.size]))
	case vIPv4:
		return netip.AddrFrom4([4]byte(data[op.off:])).AppendTo(dst)
	case vIPv6:
		return netip.AddrFrom16([16]byte(data[op.off:])).AppendTo(dst)
	}
	return dst
}

// appendCell renders the op's text cell, like appendMemberCell with the op's spec.
func (op *fastOp) appendCell(dst, data []byte) []byte {
	if op.kind == vGeneric {
		return appendMemberCell(dst, op.m, data, op.spec, op.last)
	}
	if op.spec.pre != "" {
		dst = append(dst, op.spec.pre...)
	}
	start := len(dst)
	switch op.kind {
	case vSel:
		dst = op.arms[chooseArm(op.m, data)].appendValueText(dst, data)
	case vScalar:
		sc := scalar{v: readWhole(data, op.off, op.size, op.signed), signed: op.signed}
		dst = appendScalarValue(dst, op.n, sc, op.spec)
	case vDec:
		v := readWhole(data, op.off, op.size, op.signed)
		if op.signed {
			dst = strconv.AppendInt(dst, int64(v), 10)
		} else {
			dst = strconv.AppendUint(dst, v, 10)
		}
	case vMapped:
		sc := scalar{v: readWhole(data, op.off, op.size, op.signed), signed: op.signed}
		dst = appendMapped(dst, op.n, sc, op.spec)
	case vDivF:
		sc := scalar{v: readWhole(data, op.off, op.size, op.signed), signed: op.signed}
		prec := op.spec.prec
		if prec < 0 {
			prec = 6
		}
		dst = strconv.AppendFloat(dst, sc.float()/op.n.div, 'f', prec, 64)
	default:
		dst = op.appendValueText(dst, data)
	}
	if op.padded {
		last := op.last && op.spec.post == ""
		if op.ascii {
			dst = padASCII(dst, start, &op.spec, last)
		} else {
			dst = padFast(dst, start, &op.spec, last)
		}
	}
	if op.spec.post != "" {
		dst = append(dst, op.spec.post...)
	}
	return dst
}

// padFast is pad for a cell of ASCII bytes (one rune per byte); other cells go to pad.
func padFast(dst []byte, start int, spec *fmtSpec, last bool) []byte {
	for _, c := range dst[start:] {
		if c >= 0x80 {
			return pad(dst, start, *spec, last)
		}
	}
	return padASCII(dst, start, spec, last)
}

// spaces is padding for left-aligned cells up to maxWidth.
var spaces = string(bytes.Repeat([]byte{' '}, maxWidth))

// padASCII is pad for a cell of ASCII bytes.
func padASCII(dst []byte, start int, spec *fmtSpec, last bool) []byte {
	if spec.verb == 's' && spec.prec >= 0 && len(dst)-start > spec.prec {
		dst = dst[:start+spec.prec]
	}
	count := spec.width - (len(dst) - start)
	if count <= 0 {
		return dst
	}
	if spec.left {
		if last {
			return dst
		}
		if count <= len(spaces) {
			return append(dst, spaces[:count]...)
		}
		return pad(dst, len(dst), fmtSpec{left: true, width: count, prec: -1}, false)
	}
	return insertPad(dst, start, count, ' ')
}

// appendJSONFast renders the sample's JSON object with the plan's JSON ops.
func (p *Plan) appendJSONFast(dst, data []byte) []byte {
	for i := range p.jsonOps {
		op := &p.jsonOps[i]
		dst = append(dst, op.key...)
		if op.kind == vSel {
			op = &op.arms[chooseArm(op.m, data)]
		}
		switch op.kind {
		case vGeneric:
			dst = appendMemberJSON(dst, op.m, data)
		case vInt:
			v := readWhole(data, op.off, op.size, op.signed)
			if op.signed {
				dst = strconv.AppendInt(dst, int64(v), 10)
			} else {
				dst = strconv.AppendUint(dst, v, 10)
			}
		case vBool:
			if readWhole(data, op.off, op.size, false) != 0 {
				dst = append(dst, "true"...)
			} else {
				dst = append(dst, "false"...)
			}
		case vString:
			dst = appendJSONString(dst, cstr(data[op.off:op.off+op.size]))
		case vEnum:
			v := readWhole(data, op.off, op.size, op.signed)
			if e := op.enumText(v); e != nil {
				dst = append(dst, e.text...)
			} else {
				dst = append(dst, '"')
				dst = appendEnum(dst, op.n, v)
				dst = append(dst, '"')
			}
		default:
			dst = append(dst, '"')
			dst = op.appendValueText(dst, data)
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}
