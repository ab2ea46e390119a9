# tools/gdb/asyncio.py: the await graph of every event loop of a stopped process or a core
# dump, read from memory with no call into the program (a core dump cannot run code).
#
#   (gdb) source tools/gdb/asyncio.py
#   (gdb) asyncio graph          # each loop: asyncio::debug::format_loop_graph's text
#   (gdb) asyncio tasks          # each loop: asyncio::debug::waiting_tasks's one-liners
#
# It prints what the program would print itself (docs/debugging.md): the same nodes, ids,
# call stacks and "Waits on:" lines, so the two can be compared (tests/gdb/ does, on a live
# process and on its core dump). What it reads, and the library's side of it, is described
# in docs/design/debugging.md ("From a debugger"): the loop registry
# asyncio::detail::loop_registry, each loop's list of futures and tasks (cores_), the
# extras table (names), the done-callback nodes (the "awaited by" edges), each Coro frame's
# header (where it is suspended, and the frame that awaits it).
#
# Needs the program built with debug information (-g): the types are read by name. A task
# that was running when the process stopped is shown from the last co_await it passed (the
# program itself starts a running task's stack at the place of the call).
import gdb

MAX_INDENT = 16  # asyncio::detail::max_graph_indent
PENDING = 0  # FutureCore::State::pending
HAS_EXTRAS = 2  # FutureCore's future_flags_ bits
IS_TASK = 8
HAS_CONTEXT = 16
STARTED = 2  # TaskCore's task_flags_ bits
RETURNED = 16


def _type(name):
    return gdb.lookup_type(name)


def _addr(v):
    return int(v.cast(_type("unsigned long")))


def _string(v):
    """A std::string's text."""
    n = int(v["_M_string_length"])
    return v["_M_dataplus"]["_M_p"].string(length=n) if n else ""


def _c_string(v):
    return v.string() if _addr(v) else ""


def _opening_paren(s, close):
    depth = 0
    for i in range(close, -1, -1):
        if s[i] == ")":
            depth += 1
        elif s[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


def site_function(s):
    """The coroutine function a site is in, as asyncio::detail::site_function writes it."""
    frame = s.rfind(".Frame*)")
    mangled = -1 if frame < 0 else s.rfind("::_Z", 0, frame + 4)
    if mangled >= 0:
        open_ = _opening_paren(s, frame + 7)
        if open_ >= 0:
            s = s[open_ + 1:mangled]
    close = s.rfind(")")
    if close < 0:
        return s
    open_ = _opening_paren(s, close)
    if open_ < 0:
        return s
    angles = parens = 0
    for i in range(open_ - 1, -1, -1):
        c = s[i]
        if c == ">":
            angles += 1
        elif c == "<":
            angles -= 1
        elif c == ")":
            parens += 1
        elif c == "(":
            parens -= 1
        elif c == " " and angles == 0 and parens == 0:
            return _without_anonymous(s[i + 1:])
    return _without_anonymous(s)


def _without_anonymous(s):
    while s.startswith("{anonymous}::"):
        s = s[len("{anonymous}::"):]
    return s


def _site(where):
    """(file, function, line) of a detail::SourceSite."""
    names = [f.name for f in where.type.strip_typedefs().fields()]
    if "loc_" in names:  # std::source_location: a pointer to the compiler's constant
        impl = where["loc_"]["_M_impl"]
        if not _addr(impl):
            return ("", "", 0)
        impl = impl.dereference()
        return (_c_string(impl["_M_file_name"]), _c_string(impl["_M_function_name"]), int(impl["_M_line"]))
    return (_c_string(where["file_"]), _c_string(where["function_"]), int(where["line_"]))


def _quoted(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _short_place(file, line):
    return file[file.rfind("/") + 1:] + ":" + str(line)


def _indent(level):
    if level <= MAX_INDENT:
        return " " * (4 * level)
    return " " * (4 * MAX_INDENT) + "[level %d] " % level


class Loop:
    """One EventLoop of the process, read once."""

    def __init__(self, loop):
        self.loop = loop
        self.core_ptr = _type("asyncio::detail::FutureCore").pointer()
        self.task_ptr = _type("asyncio::detail::TaskCore").pointer()
        self.extras = self._read_extras()
        self.cores = []
        c = loop["cores_"]
        while _addr(c):
            self.cores.append(c)
            c = c["next_in_loop"]
        self.by_addr = {_addr(c): c for c in self.cores}

    def _read_extras(self):
        """The extras table: FutureCore address -> FutureExtras value."""
        out = {}
        table = self.loop["extras_"]
        if not _addr(table):
            return out
        extras_ptr = _type("asyncio::detail::FutureExtras").pointer()
        pointer_size = self.core_ptr.sizeof
        node = table["map"]["_M_h"]["_M_before_begin"]["_M_nxt"]
        while _addr(node):
            # A node is its next pointer, then the std::pair<const FutureCore* const,
            # FutureExtras> (both 8-aligned): the key, then the extras.
            base = _addr(node)
            key = gdb.Value(base + pointer_size).cast(self.core_ptr.pointer()).dereference()
            out[_addr(key)] = gdb.Value(base + 2 * pointer_size).cast(extras_ptr).dereference()
            node = node["_M_nxt"]
        return out

    # -- futures and tasks ---------------------------------------------------------------

    @staticmethod
    def pending(c):
        return int(c["state_"]) == PENDING

    @staticmethod
    def is_task(c):
        return (int(c["future_flags_"]) & IS_TASK) != 0

    def task(self, c):
        return c.cast(self.task_ptr).dereference()

    def task_id(self, c):
        t = self.task(c)
        if int(c["future_flags_"]) & HAS_CONTEXT:
            return int(t["link_"]["id"])
        return int(t["id_"])

    def name(self, c):
        if int(c["future_flags_"]) & HAS_EXTRAS:
            x = self.extras.get(_addr(c))
            if x is not None:
                n = _string(x["name"])
                if n:
                    return n
        return "Task-%d" % self.task_id(c)

    def report_name(self, c):
        return self.name(c) if self.is_task(c) else ""

    def describe_awaited(self, c):
        n = self.report_name(c)
        return n if n else "a Future"

    def name_by_id(self, ident):
        for c in self.cores:
            if self.is_task(c) and self.task_id(c) == ident:
                return self.name(c)
        return "Task-%d" % ident

    def awaiters(self, c):
        """The tasks waiting for `c` (DoneNode::awaiter()), each once, in order."""
        out = []
        node = c["head_"]
        while _addr(node):
            a = self._awaiter(node)
            if a is not None and _addr(a) and all(_addr(o) != _addr(a) for o in out):
                out.append(a.cast(self.core_ptr))
            node = node["next"]
        return out

    def _awaiter(self, node):
        """DoneNode::awaiter() of the library's nodes, by their type; None for the others."""
        obj = node.cast(node.dynamic_type).dereference()
        tname = str(obj.type.strip_typedefs())
        if tname.startswith("asyncio::detail::FutureAwaiter<"):
            return obj["task_"]
        if tname.startswith("asyncio::detail::ShieldAwaiter<"):
            return obj["waiter_"]
        if tname == "asyncio::TaskGroup::Child":  # the group's parent task
            return obj["group"]["parent_"]
        if tname.endswith("::Node") and "by" in {f.name for f in obj.type.strip_typedefs().fields()}:
            return obj["by"]  # a combinator's watch of one child (gather, wait, as_completed)
        return None  # a callback, a TaskGroup's keep-alive

    def call_stack(self, c):
        t = self.task(c)
        if not _addr(t["root_"]["_M_fr_ptr"]) or int(t["task_flags_"]) & RETURNED:
            return []
        if int(t["task_flags_"]) & STARTED:
            frame = _addr(t["wait_"]["resume_point"])
        else:
            frame = _addr(t["root_"]["_M_fr_ptr"])
        header_ptr = _type("asyncio::detail::CoroFrameHeader").pointer()
        # Itanium C++ ABI coroutine frame: the resume and destroy pointers, then the promise,
        # whose first base is the CoroFrameHeader (coroutines.hpp checks the alignment).
        promise_offset = 2 * self.core_ptr.sizeof
        stack = []
        while frame:
            header = gdb.Value(frame + promise_offset).cast(header_ptr).dereference()
            stack.append(_site(header["where"]))
            link = header["link"]
            frame = _addr(link["continuation"]["_M_fr_ptr"]) if _addr(link) else 0
        return stack

    def waits_on(self, c):
        t = self.task(c)
        if int(t["task_flags_"]) & RETURNED:
            return ""
        w = t["wait_"]["waiter"]
        if not _addr(w):
            return ""
        return self._describe(w.cast(w.dynamic_type).dereference())

    def _describe(self, w):
        """Waiter::describe() of the library's waiters, by their type."""
        tname = str(w.type.strip_typedefs())
        fields = {f.name for f in w.type.strip_typedefs().fields()}
        if "FutureAwaiter<" in tname:
            return self.describe_awaited(w["state_"]["p_"].cast(self.core_ptr))
        if "ShieldAwaiter<" in tname:
            return "shield(" + self.describe_awaited(w["target_"].cast(self.core_ptr)) + ")"
        if "AcquireAwaiter<" in tname:
            prim = str(w["prim_"].type.strip_typedefs().target())
            if prim.startswith("asyncio::Lock"):
                lock = w["prim_"]
                s = "Lock.acquire()"
                if bool(lock["locked_"]) and int(lock["owner_"]) != 0:
                    s += " (held by " + self.name_by_id(int(lock["owner_"])) + ")"
                return s
            if prim.startswith("asyncio::Event"):
                return "Event.wait()"
            return "Semaphore.acquire()"
        if "QueueGet<" in tname:
            return "Queue.get()"
        if "QueuePut<" in tname:
            return "Queue.put() (the queue is full)"
        if "SleepAwaiter" in tname:
            return "sleep()"
        if "ToThreadAwaiter<" in tname:
            return "a call in another thread"
        if "write_" in fields and "fd_" in fields:  # SockOp
            what = "writable" if bool(w["write_"]) else "readable"
            return "a socket becoming %s (fd %d)" % (what, int(w["fd_"]))
        if "what_" in fields:
            v = w["what_"]
            return _string(v) if v.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT else _c_string(v)
        return "an awaitable"

    # -- the printers --------------------------------------------------------------------

    def title(self, c):
        if self.is_task(c):
            return "* Task(name=%s, id=0x%x)" % (_quoted(self.name(c)), _addr(c))
        return "* Future(id=0x%x)" % _addr(c)

    def body(self, c, indent):
        out = []
        if not self.is_task(c):
            return out
        stack = self.call_stack(c)
        if stack:
            out.append(indent + "  + Call stack:")
            for file, function, line in stack:
                out.append(indent + "  |   File %s, line %d, in async %s" % (_quoted(file), line, site_function(function)))
        w = self.waits_on(c)
        if w:
            out.append(indent + "  + Waits on: " + w)
        return out

    def graph(self):
        """asyncio::debug::format_loop_graph, line for line."""
        pending = [c for c in reversed(self.cores) if self.pending(c)]
        awaits = {}  # task address -> what it awaits, in order
        awaited = set()
        for c in pending:
            for a in self.awaiters(c):
                lst = awaits.setdefault(_addr(a), [])
                if all(_addr(x) != _addr(c) for x in lst):
                    lst.append(c)
                awaited.add(_addr(c))
        marks = {}  # address -> "path" | "shown"
        out = []
        cycles = []
        path = []  # [core, next index]

        def show(c):
            indent = _indent(len(path))
            line = indent + self.title(c)
            m = marks.get(_addr(c))
            if m == "shown":
                out.append(line + " (shown above)")
                return
            if m == "path":
                out.append(line + " (awaits a task that awaits it: a cycle)")
                names = []
                inside = False
                for core, _ in path:
                    inside = inside or _addr(core) == _addr(c)
                    if inside:
                        names.append(self.describe_awaited(core))
                cycles.append(" -> ".join(names + [self.describe_awaited(c)]))
                return
            marks[_addr(c)] = "path"
            out.append(line)
            out.extend(self.body(c, indent))
            if _addr(c) in awaits:
                out.append(indent + "  + Awaits:")
            path.append([c, 0])

        def walk(root):
            show(root)
            while path:
                level = path[-1]
                lst = awaits.get(_addr(level[0]), [])
                if level[1] == len(lst):
                    marks[_addr(level[0])] = "shown"
                    path.pop()
                    continue
                level[1] += 1
                show(lst[level[1] - 1])

        for c in pending:
            if self.is_task(c) and _addr(c) not in awaited:
                walk(c)
        for c in pending:
            if self.is_task(c) and _addr(c) not in marks:
                walk(c)
        out.extend("the await graph contains a cycle: " + c for c in cycles)
        return "\n".join(out)

    def waiting_tasks(self):
        """asyncio::debug::waiting_tasks, for a loop with no task running."""
        tasks = sorted((c for c in self.cores if self.is_task(c) and self.pending(c)), key=self.task_id)
        src = _library_src_dir()  # one symbol lookup for the whole list
        lines = []
        for c in tasks:
            s = self.name(c)
            w = self.waits_on(c)
            s += " waits on " + w if w else " is ready to run"
            if int(self.task(c)["task_flags_"]) & STARTED:
                stack = self.call_stack(c)
                if stack:
                    user = [e for e in stack if not _is_library_file(e[0], src)]
                    file, function, line = user[0] if user else stack[0]
                    s += " in " + site_function(function) + " at " + _short_place(file, line)
            lines.append(s)
        return "\n".join(lines)


def _library_src_dir():
    """The library's src/ directory as the compiler named it (asyncio::detail::is_library_file
    takes it from src/graph.cpp's __FILE__; here, from that function's symbol table)."""
    sym = gdb.lookup_global_symbol("asyncio::detail::is_library_file")
    if sym is None or sym.symtab is None:
        return None
    name = sym.symtab.filename
    return name[:name.rfind("/") + 1]


def _is_library_file(file, src):
    """asyncio::detail::is_library_file, with `src` from _library_src_dir()."""
    return "/include/asyncio/" in file or (src is not None and file.startswith(src))


def loops():
    """Every EventLoop alive, oldest first."""
    out = []
    loop = gdb.parse_and_eval("'asyncio::detail::loop_registry'")["head"]
    while _addr(loop):
        out.append(loop)
        loop = loop["next_loop_"]
    return list(reversed(out))


class AsyncioPrefix(gdb.Command):
    """Commands for the event loops of asyncio for C++: asyncio graph, asyncio tasks."""

    def __init__(self):
        super().__init__("asyncio", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


def _write_each_loop(title, text_of):
    """For each loop: a line `asyncio: <title(loop)>:`, then text_of(loop)'s lines."""
    for loop in loops():
        lp = Loop(loop)
        gdb.write("asyncio: %s:\n" % title(lp))
        text = text_of(lp)
        gdb.write(text + "\n" if text else "")


class AsyncioGraph(gdb.Command):
    """Prints the await graph of each event loop, as asyncio::debug::format_loop_graph."""

    def __init__(self):
        super().__init__("asyncio graph", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        def title(lp):
            n = sum(1 for c in lp.cores if lp.is_task(c) and lp.pending(c))
            return "await graph of the loop at 0x%x (%d pending tasks)" % (_addr(lp.loop), n)
        _write_each_loop(title, Loop.graph)


class AsyncioTasks(gdb.Command):
    """Prints each pending task of each loop and what it waits on, as asyncio::debug::waiting_tasks."""

    def __init__(self):
        super().__init__("asyncio tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        _write_each_loop(lambda lp: "tasks of the loop at 0x%x" % _addr(lp.loop), Loop.waiting_tasks)


AsyncioPrefix()
AsyncioGraph()
AsyncioTasks()
