//go:build linux || darwin

package uploader

import "net"

// peerUID is the user id of the process at the other end of c, as the
// system's peer credentials (peerCredUID) tell it.
func peerUID(c net.Conn) (int, bool) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var uid int
	var cerr error
	if err := raw.Control(func(fd uintptr) { uid, cerr = peerCredUID(int(fd)) }); err != nil || cerr != nil {
		return 0, false
	}
	return uid, true
}
