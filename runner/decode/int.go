package decode

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// Int is where a plain little-endian integer lies in a sample: a counter, a sort key, a
// histogram slot. The runner reads such numbers only through it.
type Int struct {
	// Offset is the integer's byte offset in the sample.
	Offset uint32
	// Size is its width in bytes: 1, 2, 4 or 8.
	Size uint32
	// Signed makes Read sign-extend the value to 64 bits.
	Signed bool
}

// IntOf returns the Int of field f, which must be an integer, enum, bool or pointer of 1, 2,
// 4 or 8 bytes and not a bitfield; other fields give an error wrapping ErrUnsupportedType.
func IntOf(f Field) (Int, error) {
	var signed bool
	switch t := Underlying(f.Type).(type) {
	case *btf.Int:
		signed = t.Encoding == btf.Signed
	case *btf.Enum:
		signed = t.Signed
	case *btf.Pointer:
	default:
		return Int{}, fmt.Errorf("field %s is not an integer: %w", f.Name, ErrUnsupportedType)
	}
	if f.BitfieldSize != 0 || !validIntSize(f.Size) {
		return Int{}, fmt.Errorf("field %s is not a plain integer of 1, 2, 4 or 8 bytes: %w", f.Name, ErrUnsupportedType)
	}
	return Int{Offset: f.Offset, Size: f.Size, Signed: signed}, nil
}

func validIntSize(n uint32) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

// Read returns the integer in sample (sign-extended when Signed; convert with int64 then).
// A sample that ends before the integer gives ErrShortSample, a Size other than 1, 2, 4 or
// 8 ErrUnsupportedType.
func (i Int) Read(sample []byte) (uint64, error) {
	if !validIntSize(i.Size) {
		return 0, fmt.Errorf("integer of %d bytes: %w", i.Size, ErrUnsupportedType)
	}
	if uint64(i.Offset)+uint64(i.Size) > uint64(len(sample)) {
		return 0, fmt.Errorf("integer at byte %d: %w", i.Offset, ErrShortSample)
	}
	return signExtend(le(sample[i.Offset:], i.Size), uint8(8*i.Size), i.Signed), nil
}

// le reads the little-endian unsigned integer of size 1, 2, 4 or 8 bytes at d[0] (0 for
// another size).
func le(d []byte, size uint32) uint64 {
	switch size {
	case 1:
		return uint64(d[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(d))
	case 4:
		return uint64(binary.LittleEndian.Uint32(d))
	case 8:
		return binary.LittleEndian.Uint64(d)
	}
	return 0
}
