package symbolize_test

import (
	"fmt"
	"strings"

	"ecli/runner/symbolize"
)

// A kernel stack printed as eunomia's stack_trace exporter prints it.
func ExampleSymbolizer_Kernel() {
	k, err := symbolize.ParseKallsyms(strings.NewReader(
		"ffffffff81003000 T schedule\nffffffffc0a01000 t mod_a_init\t[moda]\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := symbolize.New(symbolize.Options{Kernel: k})
	for i, addr := range []uint64{0xffffffff810030a5, 0xffffffffc0a01010, 0x10} {
		fr, _ := s.Kernel(addr) // unresolved: the bare address
		line := fmt.Sprintf("  %d [<%016x>]", i, addr)
		if fr.Name != "" {
			line += " " + fr.String()
		}
		fmt.Println(line)
	}
	// Output:
	//   0 [<ffffffff810030a5>] schedule+0xa5
	//   1 [<ffffffffc0a01010>] mod_a_init+0x10 [moda]
	//   2 [<0000000000000010>]
}
