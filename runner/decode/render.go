package decode

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

func mask(bits uint8) uint64 {
	if bits >= 64 {
		return math.MaxUint64
	}
	return 1<<bits - 1
}

// signExtend sign-extends the low bits of v when signed is set.
func signExtend(v uint64, bits uint8, signed bool) uint64 {
	if !signed || bits >= 64 || bits == 0 {
		return v
	}
	shift := 64 - bits
	return uint64(int64(v<<shift) >> shift)
}

// readUint reads an integer-like node (int, bool, enum, pointer, bitfield) from d, which
// starts at the node's first byte and holds n.size bytes. Signed values are sign-extended.
func readUint(n *node, d []byte) uint64 {
	if n.bitOff == 0 && n.bits == uint8(n.size*8) {
		return signExtend(le(d, n.size), n.bits, n.signed)
	}
	var v uint64
	sh := int(n.bitOff)
	for i := 0; i < int(n.size) && i < len(d); i++ {
		pos := 8*i - sh
		b := uint64(d[i])
		switch {
		case pos < 0:
			v |= b >> uint(-pos)
		case pos < 64:
			v |= b << uint(pos)
		}
	}
	return signExtend(v&mask(n.bits), n.bits, n.signed)
}

func appendIntValue(dst []byte, n *node, v uint64) []byte {
	if n.signed {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendUint(dst, v, 10)
}

// appendEnum appends NAME(value) or <UNKNOWN_VARIANT>(value), like eunomia.
func appendEnum(dst []byte, n *node, v uint64) []byte {
	m := mask(n.bits)
	for i := range n.enum {
		if n.enum[i].Value&m == v&m {
			dst = append(dst, n.enum[i].Name...)
			dst = append(dst, '(')
			dst = appendIntValue(dst, n, v)
			return append(dst, ')')
		}
	}
	dst = append(dst, "<UNKNOWN_VARIANT>("...)
	dst = appendIntValue(dst, n, v)
	return append(dst, ')')
}

func appendHex(dst []byte, v uint64) []byte {
	dst = append(dst, '0', 'x')
	return strconv.AppendUint(dst, v, 16)
}

func appendInt128(dst []byte, d []byte, signed bool) []byte {
	lo := binary.LittleEndian.Uint64(d[0:8])
	hi := binary.LittleEndian.Uint64(d[8:16])
	if signed && int64(hi) < 0 {
		dst = append(dst, '-')
		// Two's complement negation.
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return appendUint128(dst, hi, lo)
}

func appendUint128(dst []byte, hi, lo uint64) []byte {
	if hi == 0 {
		return strconv.AppendUint(dst, lo, 10)
	}
	// Peel off 19-digit chunks from the right until the rest fits in 64 bits. The value is
	// at least 2^64 > 1e19, so the rest is never zero.
	const chunk = 1e19
	var buf [40]byte
	i := len(buf)
	for hi != 0 {
		var r uint64
		lo, r = bits.Div64(hi%chunk, lo, chunk)
		hi /= chunk
		for range 19 {
			i--
			buf[i] = byte('0' + r%10)
			r /= 10
		}
	}
	dst = strconv.AppendUint(dst, lo, 10)
	return append(dst, buf[i:]...)
}

// appendFloat appends f like serde_json (ryu): shortest round-trip digits, a ".0" suffix on
// integral values, exponent form outside 1e-5..1e16; NaN and infinities become null.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	e := 0
	for e < len(b) && b[e] != 'e' {
		e++
	}
	var digs [24]byte
	nd := 0
	for _, c := range b[:e] {
		if c != '.' {
			digs[nd] = c
			nd++
		}
	}
	exp := 0
	neg := false
	for _, c := range b[e+1:] {
		switch {
		case c == '-':
			neg = true
		case c >= '0' && c <= '9':
			exp = exp*10 + int(c-'0')
		}
	}
	if neg {
		exp = -exp
	}
	k := exp - (nd - 1) // exponent of the last digit
	kk := nd + k        // position of the decimal point
	switch {
	case k >= 0 && kk <= 16:
		dst = append(dst, digs[:nd]...)
		for range k {
			dst = append(dst, '0')
		}
		dst = append(dst, '.', '0')
	case kk > 0 && kk <= 16:
		dst = append(dst, digs[:kk]...)
		dst = append(dst, '.')
		dst = append(dst, digs[kk:nd]...)
	case kk > -5 && kk <= 0:
		dst = append(dst, '0', '.')
		for range -kk {
			dst = append(dst, '0')
		}
		dst = append(dst, digs[:nd]...)
	default:
		dst = append(dst, digs[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, digs[1:nd]...)
		}
		dst = append(dst, 'e')
		dst = strconv.AppendInt(dst, int64(kk-1), 10)
	}
	return dst
}

func readFloat(n *node, d []byte) float64 {
	if n.kind == kFloat32 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(d)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(d))
}

// cstr returns the bytes of a char array up to the first NUL (all of it without one).
func cstr(d []byte) []byte {
	for i, c := range d {
		if c == 0 {
			return d[:i]
		}
	}
	return d
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c >= 0x20:
				dst = append(dst, c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
			i++
			continue
		}
		dst = append(dst, s[i:i+size]...)
		i += size
	}
	return append(dst, '"')
}

// appendTextString appends s raw, except control bytes, which would break the line, are
// escaped as \n, \t, \r or \xNN.
func appendTextString(dst, s []byte) []byte {
	for _, c := range s {
		switch {
		case c >= 0x20 && c != 0x7f:
			dst = append(dst, c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

// appendFormatted renders a format= hint (ipv4, ipv6, hex, cstring, flags, enum, argv,
// signal, wstatus) as text, without JSON quotes.
func appendFormatted(dst []byte, n *node, d []byte) []byte {
	switch n.format {
	case "cstring":
		return appendCString(dst, cstr(d[:min(len(d), int(n.size))]))
	case "flags":
		return appendFlags(dst, n, readUint(n, d))
	case "enum":
		return appendEnumName(dst, n, readUint(n, d))
	case "file":
		return appendTextString(dst, n.fileLine())
	case "argv":
		return appendArgv(dst, d, n.counted, n.quote)
	case "signal":
		return appendSignal(dst, int64(readUint(n, d)))
	case "wstatus":
		return appendWaitStatus(dst, readUint(n, d))
	case "ipv4":
		return netip.AddrFrom4([4]byte(d[:4])).AppendTo(dst)
	case "ipv6":
		return netip.AddrFrom16([16]byte(d[:16])).AppendTo(dst)
	default: // hex
		v := readUint(n, d)
		if n.bits < 64 {
			v &= mask(n.bits)
		}
		return appendHex(dst, v)
	}
}

// appendJSON appends the JSON value of node n whose bytes start at d[0].
func appendJSON(dst []byte, n *node, d []byte) []byte {
	if n.format == "argv" {
		return appendArgvJSON(dst, d, n.counted)
	}
	if n.format == "cstring" {
		return appendJSONString(dst, cstr(d[:min(len(d), int(n.size))]))
	}
	if n.format == "file" {
		return appendJSONString(dst, n.fileLine())
	}
	if n.format != "" {
		dst = append(dst, '"')
		dst = appendFormatted(dst, n, d)
		return append(dst, '"')
	}
	switch n.kind {
	case kInt:
		return appendIntValue(dst, n, readUint(n, d))
	case kBool:
		if readUint(n, d) != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kEnum:
		dst = append(dst, '"')
		dst = appendEnum(dst, n, readUint(n, d))
		return append(dst, '"')
	case kInt128:
		dst = append(dst, '"')
		dst = appendInt128(dst, d, n.signed)
		return append(dst, '"')
	case kFloat32, kFloat64:
		return appendFloat(dst, readFloat(n, d))
	case kPtr:
		dst = append(dst, '"')
		dst = appendHex(dst, readUint(n, d))
		return append(dst, '"')
	case kString:
		return appendJSONString(dst, cstr(d[:min(len(d), int(n.size))]))
	case kArray:
		dst = append(dst, '[')
		es := n.elem.size
		for i := uint32(0); i < n.n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, n.elem, d[i*es:(i+1)*es])
		}
		return append(dst, ']')
	case kStruct, kUnion:
		dst = append(dst, '{')
		for i := range n.members {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, n.members[i].key...)
			dst = appendMemberJSON(dst, &n.members[i], d)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// memberData returns the bytes of member m within its parent's data d: with a len= hint,
// only as many as the length member says (negative: none; more than the array: all).
func memberData(m *member, d []byte) []byte {
	md := d[m.node.off : m.node.off+m.node.size]
	if l := m.length; l != nil {
		n := readUint(l, d[l.off:l.off+l.size])
		if l.signed && int64(n) < 0 {
			n = 0
		}
		if n < uint64(len(md)) {
			md = md[:n]
		}
	}
	return md
}

// choose returns the union arm selected for m, whose parent's data is d.
func choose(m *member, d []byte) *member {
	return &m.node.members[chooseArm(m, d)]
}

// chooseArm returns the index of the union arm selected for m, whose parent's data is d.
func chooseArm(m *member, d []byte) int {
	from := m.sel.from
	v := readUint(from, d[from.off:from.off+from.size])
	for _, ac := range m.sel.arms {
		for _, cv := range ac.vals {
			if cv == v {
				return ac.arm
			}
		}
	}
	return 0
}

func appendMemberJSON(dst []byte, m *member, d []byte) []byte {
	md := memberData(m, d)
	if m.sel != nil && len(m.node.members) > 0 {
		arm := choose(m, d)
		return appendJSON(dst, arm.node, memberData(arm, md))
	}
	return appendJSON(dst, m.node, md)
}

// appendText appends the eunomia text value of n: strings raw, numbers plain, everything
// else compact JSON. Value hints (format, map, div, rel) apply.
func appendText(dst []byte, n *node, d []byte) []byte {
	if n.format != "" {
		return appendFormatted(dst, n, d)
	}
	switch n.kind {
	case kInt, kBool, kEnum:
		if n.mapped != nil || n.div != 0 || n.rel {
			return appendScalar(dst, n, d, fmtSpec{prec: -1})
		}
		if n.kind == kEnum {
			return appendEnum(dst, n, readUint(n, d))
		}
	case kInt128:
		return appendInt128(dst, d, n.signed)
	case kPtr:
		return appendHex(dst, readUint(n, d))
	case kString:
		s := cstr(d[:min(len(d), int(n.size))])
		if out, ok := appendEmpty(dst, n, s); ok {
			return out
		}
		return appendTextString(dst, s)
	case kStruct:
		if n.tmpl {
			return appendTemplate(dst, n, d)
		}
	}
	return appendJSON(dst, n, d)
}

// appendTemplate renders a struct whose members carry fmt=, sep= or hide as one text cell:
// each shown member's value formatted by its fmt (literal text included), followed by its
// sep (one space by default, nothing after the last shown member).
func appendTemplate(dst []byte, n *node, d []byte) []byte {
	sep, first := "", true
	for i := range n.members {
		m := &n.members[i]
		if m.hidden {
			continue
		}
		if !first {
			dst = append(dst, sep...)
		}
		first = false
		spec := m.hints.fmt
		if !m.hints.hasFmt {
			spec = fmtSpec{prec: -1}
		}
		dst = appendMemberCell(dst, m, d, spec, false)
		sep = " "
		if m.hints.hasSep {
			sep = m.hints.sep
		}
	}
	return dst
}

// appendCString appends s as a C string literal: in double quotes, with \a \b \t \n \v
// \f \r \" \\ escaped, other bytes outside printable ASCII as \xNN (bcc's mountsnoop).
func appendCString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch c {
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\v':
			dst = append(dst, '\\', 'v')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			if c >= 0x20 && c <= 0x7e {
				dst = append(dst, c)
			} else {
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			}
		}
	}
	return append(dst, '"')
}

// appendFlags appends v as a set of the enum's bit values joined by '|', in declaration
// order: an enumerator matches when all its bits are set, and its bits are then taken out.
// Bits no enumerator names follow as 0x... ; 0 is the enumerator of value 0 if there is
// one, else 0x0.
func appendFlags(dst []byte, n *node, v uint64) []byte {
	m := mask(n.bits)
	v &= m
	if v == 0 {
		for _, e := range n.enum {
			if e.Value&m == 0 {
				return append(dst, e.Name...)
			}
		}
		return append(dst, "0x0"...)
	}
	start := len(dst)
	for _, e := range n.enum {
		ev := e.Value & m
		if ev == 0 || v&ev != ev {
			continue
		}
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst = append(dst, e.Name...)
		v &^= ev
	}
	if v != 0 {
		if len(dst) > start {
			dst = append(dst, '|')
		}
		dst = appendHex(dst, v)
	}
	return dst
}

// appendEnumName appends the name of the enumerator of value v, or v as a number when
// there is none.
func appendEnumName(dst []byte, n *node, v uint64) []byte {
	m := mask(n.bits)
	for i := range n.enum {
		if n.enum[i].Value&m == v&m {
			return append(dst, n.enum[i].Name...)
		}
	}
	return appendIntValue(dst, n, v)
}

// scalar is a numeric value read for printf-style rendering, after rel and div.
type scalar struct {
	v       uint64
	f       float64
	isFloat bool
	signed  bool
}

// appendScalar renders a numeric node per a printf verb (0 = default rendering), applying
// rel, div and map.
func appendScalar(dst []byte, n *node, d []byte, spec fmtSpec) []byte {
	sc := scalar{signed: n.signed}
	switch n.kind {
	case kFloat32, kFloat64:
		sc.isFloat, sc.f = true, readFloat(n, d)
	default:
		sc.v = readUint(n, d)
	}
	return appendScalarValue(dst, n, sc, spec)
}

// appendScalarValue is appendScalar for a value already read from the sample.
func appendScalarValue(dst []byte, n *node, sc scalar, spec fmtSpec) []byte {
	if n.mapped != nil {
		return appendMapped(dst, n, sc, spec)
	}
	sc = n.adjust(sc)
	switch spec.verb {
	case 0, 's':
		return appendScalarDefault(dst, n, sc, spec)
	case 'f':
		return appendScalarFloat(dst, sc, spec.prec)
	}
	return appendScalarInt(dst, n, sc, spec)
}

// appendMapped renders the value by the node's map= hint or, when no entry matches, as a
// number: by the integer verb of spec (d u x o), else in decimal.
func appendMapped(dst []byte, n *node, sc scalar, spec fmtSpec) []byte {
	for _, e := range n.mapped {
		if uint64(e.val) == sc.v {
			return append(dst, e.text...)
		}
	}
	switch spec.verb {
	case 'd', 'u', 'x', 'o':
		return appendScalarInt(dst, n, sc, spec)
	}
	return appendIntValue(dst, n, sc.v)
}

// adjust applies the rel hint (relative to the first value seen, so signed) and the div hint
// (a float quotient).
func (n *node) adjust(sc scalar) scalar {
	if n.rel {
		if !n.relSet {
			n.relSet, n.relBase = true, sc.v
		}
		sc.v -= n.relBase
		sc.signed = true
	}
	if n.div != 0 {
		sc.isFloat = true
		sc.f = sc.float() / n.div
	}
	return sc
}

// float returns the integer value as a float64.
func (sc scalar) float() float64 {
	if sc.signed {
		return float64(int64(sc.v))
	}
	return float64(sc.v)
}

// appendScalarDefault renders without a numeric verb (none, or %s): a div quotient with the
// given or 2 decimals, floats shortest, bools, enums and pointers as their kind, else the
// integer.
func appendScalarDefault(dst []byte, n *node, sc scalar, spec fmtSpec) []byte {
	switch {
	case sc.isFloat && n.div != 0:
		prec := spec.prec
		if prec < 0 || spec.verb == 's' {
			prec = 2
		}
		return strconv.AppendFloat(dst, sc.f, 'f', prec, 64)
	case sc.isFloat:
		return appendFloat(dst, sc.f)
	case n.kind == kBool && !n.rel:
		if sc.v != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case n.kind == kEnum && !n.rel:
		return appendEnum(dst, n, sc.v)
	case n.kind == kPtr:
		return appendHex(dst, sc.v)
	}
	if sc.signed {
		return strconv.AppendInt(dst, int64(sc.v), 10)
	}
	return strconv.AppendUint(dst, sc.v, 10)
}

// appendScalarFloat renders %f: prec decimals, 6 without a precision.
func appendScalarFloat(dst []byte, sc scalar, prec int) []byte {
	f := sc.f
	if !sc.isFloat {
		f = sc.float()
	}
	if prec < 0 {
		prec = 6
	}
	return strconv.AppendFloat(dst, f, 'f', prec, 64)
}

// appendScalarInt renders %d, %u, %x and %o: floats truncated toward zero, %u and %x of the
// value's own width (two's complement), the precision as a minimum number of digits.
func appendScalarInt(dst []byte, n *node, sc scalar, spec fmtSpec) []byte {
	v, signed := sc.v, sc.signed
	if sc.isFloat {
		if math.IsNaN(sc.f) || math.IsInf(sc.f, 0) {
			return strconv.AppendFloat(dst, sc.f, 'f', -1, 64)
		}
		signed, v = true, uint64(int64(sc.f))
	}
	if spec.verb != 'd' {
		if !n.rel && n.bits > 0 {
			v &= mask(n.bits)
		}
	} else if signed && int64(v) < 0 {
		dst = append(dst, '-')
		v = -v
	}
	start := len(dst)
	base := 10
	switch spec.verb {
	case 'x':
		base = 16
	case 'o':
		base = 8
	}
	dst = strconv.AppendUint(dst, v, base)
	if zeros := spec.prec - (len(dst) - start); zeros > 0 {
		dst = insertPad(dst, start, zeros, '0')
	}
	return dst
}

// insertPad inserts count copies of c at dst[at:].
func insertPad(dst []byte, at, count int, c byte) []byte {
	end := len(dst)
	for range count {
		dst = append(dst, c)
	}
	copy(dst[at+count:], dst[at:end])
	for i := at; i < at+count; i++ {
		dst[i] = c
	}
	return dst
}

// pad applies width, alignment and %s precision to the cell starting at dst[start:].
func pad(dst []byte, start int, spec fmtSpec, last bool) []byte {
	if spec.verb == 's' && spec.prec >= 0 {
		cell := dst[start:]
		runes, i := 0, 0
		for i < len(cell) && runes < spec.prec {
			_, size := utf8.DecodeRune(cell[i:])
			i += size
			runes++
		}
		dst = dst[:start+i]
	}
	if spec.width == 0 {
		return dst
	}
	count := spec.width - utf8.RuneCount(dst[start:])
	if count <= 0 {
		return dst
	}
	if spec.left {
		if last {
			return dst
		}
		for range count {
			dst = append(dst, ' ')
		}
		return dst
	}
	return insertPad(dst, start, count, ' ')
}

func appendPadded(dst, s []byte, spec fmtSpec, last bool) []byte {
	start := len(dst)
	dst = append(dst, s...)
	return pad(dst, start, spec, last)
}

// appendCell renders top-level member i formatted per spec (verb 0: default rendering).
func (p *Plan) appendCell(dst, data []byte, i int, spec fmtSpec, last bool) []byte {
	return appendMemberCell(dst, &p.root.members[i], data, spec, last)
}

// appendMemberCell renders member m of the struct whose bytes are data, formatted per spec:
// its literal text, then the value padded to the width (a last cell with nothing after it
// is not padded).
func appendMemberCell(dst []byte, m *member, data []byte, spec fmtSpec, last bool) []byte {
	dst = append(dst, spec.pre...)
	start := len(dst)
	d := memberData(m, data)
	if belowThreshold(m.node, d) {
		dst = pad(dst, start, spec, last && spec.post == "")
		return append(dst, spec.post...)
	}
	switch {
	case m.sel != nil && len(m.node.members) > 0:
		arm := choose(m, data)
		dst = appendText(dst, arm.node, memberData(arm, d))
	case (spec.verb != 0 && spec.verb != 's' && numeric(m.node)) || (m.node.format == "" && (m.node.mapped != nil || m.node.div != 0 || m.node.rel)):
		dst = appendScalar(dst, m.node, d, spec)
	default:
		dst = appendText(dst, m.node, d)
	}
	if m.suffix != nil {
		dst = appendSuffix(dst, m.suffix, data)
	}
	dst = pad(dst, start, spec, last && spec.post == "")
	return append(dst, spec.post...)
}

// appendPlain renders top-level member i for a match= filter: its text without padding and
// without quote=.
func (p *Plan) appendPlain(dst, data []byte, i int) []byte {
	m := &p.root.members[i]
	if m.node.format == "argv" {
		return appendArgv(dst, memberData(m, data), m.node.counted, false)
	}
	return p.appendCell(dst, data, i, fmtSpec{}, true)
}

func appendClock(dst []byte, h, m, s int) []byte {
	return append(dst,
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10))
}

// secondText is HH:MM:SS of one second of the wall clock, which is all the TIME column
// needs to compute once per second: within one Location, the second since the epoch
// determines the wall-clock second (zone offsets change on a second's boundary).
type secondText struct {
	unix  int64
	loc   *time.Location
	text  [8]byte
	valid bool
}

// appendClock appends t as HH:MM:SS, formatting it only when its second changed.
func (c *secondText) appendClock(dst []byte, t time.Time) []byte {
	if u, loc := t.Unix(), t.Location(); !c.valid || u != c.unix || loc != c.loc {
		h, m, s := t.Clock()
		c.unix, c.loc, c.valid = u, loc, true
		c.text = [8]byte(appendClock(c.text[:0], h, m, s))
	}
	return append(dst, c.text[:]...)
}

// appendTime appends t as HH:MM:SS with prec digits of fractional seconds.
func (c *clockColumn) appendTime(dst []byte, t time.Time) []byte {
	dst = c.second.appendClock(dst, t)
	if c.prec > 0 {
		frac := t.Nanosecond()
		for i := c.prec; i < 9; i++ {
			frac /= 10
		}
		dst = append(dst, '.')
		for i, div := 0, pow10(c.prec-1); i < c.prec; i, div = i+1, div/10 {
			dst = append(dst, byte('0'+frac/div%10))
		}
	}
	return dst
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// glued reports whether the next column follows the TIME column with no separating space:
// with time_fmt the cell format holds its own separation (bcc prints "%-9s" % time, then
// the next column); the default TIME column is 8 wide, then a space.
func (c *clockColumn) glued() bool { return c.glue }

// appendEunomia renders a row like eunomia's plain-text output.
func (p *Plan) appendEunomia(dst, data []byte) []byte {
	start := len(dst)
	dst = p.clk.second.appendClock(dst, p.clock())
	dst = append(dst, ' ')
	for i, col := range p.cols {
		if n := len(dst) - start; n < col.start {
			for ; n < col.start; n++ {
				dst = append(dst, ' ')
			}
		} else {
			dst = append(dst, ' ')
		}
		dst = p.textOps[i].appendCell(dst, data)
	}
	return dst
}

// appendBCC renders a row in the hinted, bcc-like layout.
func (p *Plan) appendBCC(dst, data []byte) []byte {
	if p.timeCol {
		start := len(dst)
		dst = p.clk.appendTime(dst, p.clock())
		dst = pad(dst, start, p.clk.spec, len(p.cols) == 0)
	}
	for i := range p.textOps {
		op := &p.textOps[i]
		if len(op.prefix) == 1 {
			dst = append(dst, op.prefix[0])
		} else {
			dst = append(dst, op.prefix...)
		}
		dst = op.appendCell(dst, data)
	}
	return dst
}

// appendCSV renders a row as comma-separated values: the TIME column (when shown) and each
// cell unpadded and untruncated, floats with their fmt precision, a cell holding a comma, a
// double quote or a line break quoted as RFC 4180 says.
func (p *Plan) appendCSV(dst, data []byte) []byte {
	if p.timeCol {
		dst = p.clk.appendTime(dst, p.clock())
	}
	for i, col := range p.cols {
		if i > 0 || p.timeCol {
			dst = append(dst, ',')
		}
		spec := fmtSpec{verb: col.spec.verb, prec: col.spec.prec}
		if spec.verb == 's' {
			spec.prec = -1
		}
		start := len(dst)
		dst = p.appendCell(dst, data, col.member, spec, true)
		dst = quoteCSV(dst, start)
	}
	return dst
}

// appendCSVCell appends s as one CSV cell; start is len(dst).
func appendCSVCell(dst []byte, start int, s []byte) []byte {
	return quoteCSV(append(dst, s...), start)
}

// quoteCSV quotes the cell dst[start:] in place when it holds a comma, a double quote or a
// line break (text cells escape line breaks already), doubling its double quotes.
func quoteCSV(dst []byte, start int) []byte {
	quotes, need := 0, false
	for _, c := range dst[start:] {
		switch c {
		case '"':
			quotes++
			need = true
		case ',', '\n', '\r':
			need = true
		}
	}
	if !need {
		return dst
	}
	end := len(dst)
	for range quotes + 2 {
		dst = append(dst, 0)
	}
	// Fill from the back so no byte is overwritten before it is moved.
	w := len(dst) - 1
	dst[w] = '"'
	for r := end - 1; r >= start; r-- {
		w--
		dst[w] = dst[r]
		if dst[r] == '"' {
			w--
			dst[w] = '"'
		}
	}
	dst[start] = '"'
	return dst
}

// fileLine is the first line of a file= hint's file, without trailing white space; empty
// when there is no reader or the file cannot be read.
func (n *node) fileLine() []byte {
	if n.read == nil {
		return nil
	}
	b, err := n.read(n.file)
	if err != nil {
		return nil
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimRight(b, " \t\r")
}
