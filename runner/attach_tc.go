package runner

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attachTC attaches tc, classifier and tcx programs. It uses a tcx link where the kernel
// has them (Linux 6.6+) and otherwise a direct-action bpf filter on a clsact qdisc over
// rtnetlink, as libbpf's bpf_tc_attach does (eunomia's behaviour, with tchook/tcopts).
func attachTC(i *Instance, pm ProgMeta, prog *ebpf.Program, rest string, o AttachOptions) error {
	ifindex := ifindexFor(pm.TCIfindex, o)
	egress := false
	switch {
	case strings.HasSuffix(rest, "egress"), pm.TCAttachPoint == "BPF_TC_EGRESS":
		egress = true
	case rest == "" || strings.HasSuffix(rest, "ingress"), pm.TCAttachPoint == "" || pm.TCAttachPoint == "BPF_TC_INGRESS":
	default:
		return fmt.Errorf("%w: tc attach point %q", ErrUnsupportedAttach, pm.TCAttachPoint)
	}
	at := ebpf.AttachTCXIngress
	if egress {
		at = ebpf.AttachTCXEgress
	}
	var l link.Link
	err := ebpf.ErrNotSupported
	if !o.tcNetlink {
		l, err = link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: prog, Attach: at})
	}
	if err == nil {
		i.addLink(l)
		return nil
	}
	if !errors.Is(err, ebpf.ErrNotSupported) && !errors.Is(err, unix.EINVAL) {
		return hookErr(fmt.Sprintf("tcx on ifindex %d", ifindex), err)
	}
	handle, prio := pm.TCHandle, pm.TCPriority
	if handle == 0 {
		handle = 1
	}
	if prio == 0 {
		prio = 1
	}
	detach, err := tcFilterAttach(ifindex, egress, handle, prio, prog)
	if err != nil {
		return hookErr(fmt.Sprintf("tc bpf filter on ifindex %d", ifindex), err)
	}
	i.addCloser(detach)
	return nil
}

// rtnetlink constants not in x/sys/unix for every version.
const (
	tcHMajMask    = 0xFFFF0000 // TC_H_MAJ_MASK: the major half of a handle
	tcHClsact     = 0xFFFFFFF1 // TC_H_CLSACT: the parent of a clsact qdisc
	tcClsactQdisc = 0xFFFF0000 // ffff:0, the handle of the clsact qdisc
	tcHMinIngress = 0xFFF2
	tcHMinEgress  = 0xFFF3
	tcaBPFFD      = 6
	tcaBPFName    = 7
	tcaBPFFlags   = 8
	tcaBPFActDir  = 1 << 0
	sizeofTcmsg   = 20 // struct tcmsg
)

// tcFilterAttach adds a clsact qdisc (if missing) and a bpf filter in direct-action mode;
// the returned function removes the filter again.
func tcFilterAttach(ifindex int, egress bool, handle, prio uint32, prog *ebpf.Program) (func() error, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink socket: %w", err)
	}
	nl := &rtnl{fd: fd}
	// clsact qdisc: parent TC_H_CLSACT, handle ffff:0.
	q := tcmsg(ifindex, tcClsactQdisc, tcHClsact, 0)
	q = appendAttr(q, unix.TCA_KIND, []byte("clsact\x00"))
	created := true
	if err := nl.do(unix.RTM_NEWQDISC, unix.NLM_F_CREATE|unix.NLM_F_EXCL, q); errors.Is(err, unix.EEXIST) {
		created = false
	} else if err != nil {
		nl.close()
		return nil, fmt.Errorf("creating clsact qdisc: %w", err)
	}
	delQdisc := func() {
		if created { // only a qdisc we made: others' filters may hang off an existing one
			_ = nl.do(unix.RTM_DELQDISC, 0, q)
		}
	}
	minor := uint32(tcHMinIngress)
	if egress {
		minor = tcHMinEgress
	}
	parent := tcHClsact&tcHMajMask | minor
	info := prio<<16 | uint32(htons(unix.ETH_P_ALL))
	f := tcmsg(ifindex, handle, parent, info)
	f = appendAttr(f, unix.TCA_KIND, []byte("bpf\x00"))
	var opts []byte
	fdb := make([]byte, 4)
	binary.NativeEndian.PutUint32(fdb, uint32(prog.FD()))
	opts = appendAttr(opts, tcaBPFFD, fdb)
	name := "ecli"
	if info, err := prog.Info(); err == nil && info.Name != "" {
		name = info.Name
	}
	opts = appendAttr(opts, tcaBPFName, append([]byte(name), 0))
	flags := make([]byte, 4)
	binary.NativeEndian.PutUint32(flags, tcaBPFActDir)
	opts = appendAttr(opts, tcaBPFFlags, flags)
	f = appendAttr(f, unix.TCA_OPTIONS|unix.NLA_F_NESTED, opts)
	if err := nl.do(unix.RTM_NEWTFILTER, unix.NLM_F_CREATE|unix.NLM_F_EXCL, f); err != nil {
		delQdisc()
		nl.close()
		return nil, fmt.Errorf("adding bpf filter (handle %d, priority %d): %w", handle, prio, err)
	}
	return func() error {
		defer nl.close()
		del := tcmsg(ifindex, handle, parent, info)
		del = appendAttr(del, unix.TCA_KIND, []byte("bpf\x00"))
		err := nl.do(unix.RTM_DELTFILTER, 0, del)
		delQdisc()
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("removing tc filter: %w", err)
		}
		return nil
	}, nil
}

type rtnl struct {
	fd  int
	seq uint32
}

func (n *rtnl) close() { unix.Close(n.fd) }

// do sends one request and waits for its acknowledgement.
func (n *rtnl) do(typ uint16, flags uint16, body []byte) error {
	n.seq++
	hdr := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	binary.NativeEndian.PutUint32(hdr[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(hdr[4:], typ)
	binary.NativeEndian.PutUint16(hdr[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(hdr[8:], n.seq)
	msg := append(hdr, body...)
	if err := unix.Sendto(n.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, os.Getpagesize())
	for {
		m, _, err := unix.Recvfrom(n.fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:m])
		if err != nil {
			return err
		}
		for _, msg := range msgs {
			if msg.Header.Seq != n.seq || msg.Header.Type != syscall.NLMSG_ERROR {
				continue
			}
			if len(msg.Data) < 4 {
				return errors.New("short netlink error message")
			}
			if code := int32(binary.NativeEndian.Uint32(msg.Data)); code != 0 {
				return unix.Errno(-code)
			}
			return nil
		}
	}
}

// tcmsg builds a struct tcmsg.
func tcmsg(ifindex int, handle, parent, info uint32) []byte {
	b := make([]byte, sizeofTcmsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(int32(ifindex)))
	binary.NativeEndian.PutUint32(b[8:], handle)
	binary.NativeEndian.PutUint32(b[12:], parent)
	binary.NativeEndian.PutUint32(b[16:], info)
	return b
}

// appendAttr appends a netlink attribute, padded to 4 bytes.
func appendAttr(b []byte, typ uint16, val []byte) []byte {
	l := 4 + len(val)
	h := make([]byte, 4)
	binary.NativeEndian.PutUint16(h[0:], uint16(l))
	binary.NativeEndian.PutUint16(h[2:], typ)
	b = append(b, h...)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
