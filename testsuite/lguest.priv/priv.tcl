# priv.tcl - what the lguest.priv tests share (sourced, not run): reading
# a running Launcher's /proc entries, starting it as an unprivileged user,
# and timing how it ends.

load_lib virtio.exp

# The fields of /proc/PID/status as a dict (field -> value, trimmed), or
# an empty dict when PID is gone.
proc pv_status {pid} {
    set d [dict create]
    if {[catch {open /proc/$pid/status} f]} {
	return $d
    }
    foreach line [split [read $f] \n] {
	if {[regexp {^([A-Za-z_]+):\s*(.*)$} $line -> k v]} {
	    dict set d $k [string trim $v]
	}
    }
    close $f
    return $d
}

# One field of /proc/PID/status ("" if missing).
proc pv_field {pid key} {
    set d [pv_status $pid]
    if {[dict exists $d $key]} {
	return [dict get $d $key]
    }
    return ""
}

# /proc/PID/comm, trimmed ("" if PID is gone).
proc pv_comm {pid} {
    if {[catch {open /proc/$pid/comm} f]} {
	return ""
    }
    set c [string trim [read $f]]
    close $f
    return $c
}

# Has PID ended (gone, or a zombie waiting for us)?
proc pv_ended {pid} {
    if {[catch {open /proc/$pid/stat} f]} {
	return 1
    }
    set s [read $f]
    close $f
    set rest [string range $s [expr {[string last ")" $s] + 2}] end]
    return [expr {[lindex $rest 0] in {Z X}}]
}

# Wait up to TIMEOUT seconds for PID to end, polling every 20 ms; while
# waiting, call the command TICK (if any) every 100 ms.  Returns the
# milliseconds clock when the end was seen, or "" on timeout.
proc pv_wait_end {pid timeout {tick ""}} {
    set limit [expr {[clock milliseconds] + $timeout * 1000}]
    set next [clock milliseconds]
    while {[clock milliseconds] < $limit} {
	if {[pv_ended $pid]} {
	    return [clock milliseconds]
	}
	if {$tick ne "" && [clock milliseconds] >= $next} {
	    uplevel #0 $tick
	    incr next 100
	}
	after 20
    }
    return ""
}

# Open descriptors of PID.
proc pv_nfds {pid} {
    return [llength [glob -nocomplain -directory /proc/$pid/fd *]]
}

# Does LGUEST have a seccomp filter (it then offers --no-seccomp)?
proc pv_has_seccomp {} {
    global LGUEST
    catch {exec $LGUEST --help} help
    return [string match *--no-seccomp* $help]
}

# "MAJOR MINOR" of the character device PATH, in decimal.
proc pv_devnum {path} {
    lassign [split [exec stat -c %t:%T $path] :] major minor
    return [list [expr {"0x$major"}] [expr {"0x$minor"}]]
}

# A command prefix (for vt_spawn) that runs the rest as nobody:nogroup
# with no supplementary groups and CAP_NET_ADMIN as its only capability
# (inheritable, ambient and the whole bounding set), in a mount namespace
# of its own where /dev/kvm is a node of the same device that nobody may
# open, and /dev/net/tun one that anybody may (as udev makes it; some
# hosts have it 0600).  The host's /dev is not touched.  DIR is an empty
# directory for the namespace's tmpfs.
proc pv_netadmin_prefix {dir} {
    file mkdir $dir
    return [list unshare -m --propagation private sh -c {
	d=$1; shift
	mount -t tmpfs -o mode=0755 lguest-dev "$d" &&
	mknod -m 0600 "$d/kvm" c $1 $2 &&
	chown nobody:nogroup "$d/kvm" &&
	mount --bind "$d/kvm" /dev/kvm &&
	mknod -m 0666 "$d/tun" c $3 $4 &&
	mount --bind "$d/tun" /dev/net/tun &&
	shift 4 &&
	exec "$@"
    } sh $dir {*}[pv_devnum /dev/kvm] {*}[pv_devnum /dev/net/tun] \
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
	--bounding-set=-all,+net_admin]
}
