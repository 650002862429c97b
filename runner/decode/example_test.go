package decode_test

import (
	"encoding/binary"
	"fmt"

	"ecli/runner/decode"

	"github.com/cilium/ebpf/btf"
)

func Example() {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Signed}
	event := &btf.Struct{Name: "event", Size: 24, Tags: []string{"ecli:time=off"}, Members: []btf.Member{
		{Name: "pid", Type: u32, Tags: []string{"ecli:name=PID", "ecli:fmt=%-7d"}},
		{Name: "comm", Type: &btf.Array{Index: u32, Type: char, Nelems: 16}, Offset: 32, Tags: []string{"ecli:name=COMM", "ecli:fmt=%-16s"}},
		{Name: "saddr", Type: u32, Offset: 160, Tags: []string{"ecli:name=SADDR", "ecli:format=ipv4"}},
	}}
	p, err := decode.Compile(event, decode.Options{})
	if err != nil {
		panic(err)
	}
	sample := make([]byte, p.Size())
	binary.LittleEndian.PutUint32(sample, 4242)
	copy(sample[4:], "curl")
	copy(sample[20:], []byte{10, 0, 0, 1})

	fmt.Println(p.Header())
	line, _ := p.AppendText(nil, sample)
	fmt.Println(string(line))
	js, _ := p.AppendJSON(nil, sample)
	fmt.Println(string(js))
	// Output:
	// PID     COMM             SADDR
	// 4242    curl             10.0.0.1
	// {"pid":4242,"comm":"curl","saddr":"10.0.0.1"}
}
