# Shared plumbing for the eksbox TEST DOUBLES of eksctl and flux (and the aws wrapper).
# These are NOT the real tools: they act on moto through botocore so eksbox's lifecycle can be tested
# end to end on a machine that cannot download eksctl or flux. test/doubles/README.md says what each
# double simulates and where it departs from the real tool.
import datetime
import fcntl
import json
import os
import re
import signal
import sys
import time

DOUBLE_DIR = os.path.dirname(os.path.realpath(__file__))
# In the image the schema sits beside the doubles; run from the repository, it is the vendored copy.
SCHEMA_PATH = os.environ.get("EKSBOX_TEST_EKSCTL_SCHEMA") or next(
    (p for p in (os.path.join(DOUBLE_DIR, "eksctl-schema.json"),
                 os.path.join(DOUBLE_DIR, "..", "..", "src", "vendor", "eksctl-v0.230.0", "schema.json"))
     if os.path.exists(p)),
    os.path.join(DOUBLE_DIR, "eksctl-schema.json"),
)
STATE_DIR = ".eksbox-test"


class Fail(Exception):
    """An error the double reports like the real tool would: `Error: <message>` and exit 1."""


def record_and_maybe_fail(tool: str, args: list) -> None:
    """Appends argv to .eksbox-test/argv.log; fails once when a line of .eksbox-test/fail matches.

    Runs before anything else so a test can make any one step fail, then rerun and see it complete.
    """
    joined = " ".join([tool] + args)
    try:
        os.makedirs(STATE_DIR, exist_ok=True)
        # One short write with O_APPEND: lines from doubles running in parallel do not interleave.
        line = json.dumps({"tool": tool, "argv": [tool] + args, "pid": os.getpid()}) + "\n"
        fd = os.open(os.path.join(STATE_DIR, "argv.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError as e:
        print(f"test double: cannot record argv: {e}", file=sys.stderr)
    wanted = _consume_matching_line(os.path.join(STATE_DIR, "fail"), joined, lambda line: line)
    if wanted is not None:
        print(f"injected failure: {wanted}", file=sys.stderr)
        sys.exit(1)
    # `.eksbox-test/slow` lines are "<seconds> <substring>": a matching call waits that long first
    # (once), so tests can interrupt a step while it runs.
    delay = _consume_matching_line(os.path.join(STATE_DIR, "slow"), joined, lambda line: line.partition(" ")[2].strip())
    if delay is not None:
        seconds = float(delay.split(" ", 1)[0])
        print(f"{tool} test double: injected delay of {seconds:g}s before running", file=sys.stderr, flush=True)
        time.sleep(seconds)


def _consume_matching_line(path: str, joined: str, key):
    """Removes and returns the first line of `path` whose key is a substring of `joined` (None if none)."""
    if not os.path.exists(path):
        return None
    try:
        handle = open(path, "r+")
    except OSError as e:
        # A test asked for this and we cannot consume it: failing loudly beats silently doing nothing.
        print(f"test double: cannot update {path}: {e.strerror}", file=sys.stderr)
        sys.exit(1)
    with handle as f:
        # Doubles may run in parallel (one nodegroup per zone): lock so a line is used exactly once.
        fcntl.flock(f, fcntl.LOCK_EX)
        lines = f.read().splitlines()
        for index, line in enumerate(lines):
            needle = key(line.strip())
            if line.strip() and needle and needle in joined:
                del lines[index]
                f.seek(0)
                f.truncate()
                f.write("".join(l + "\n" for l in lines))
                f.flush()
                return line.strip()
    return None


class Help(Exception):
    """`-h`/`--help` among flags that all parsed: cobra prints the command's usage and exits 0 (run_main does)."""

    def __init__(self, value_flags: set, bool_flags: set, short: dict, types: dict):
        super().__init__("help")
        self.value_flags, self.bool_flags, self.short, self.types = value_flags, bool_flags, short, types


def go_int(name: str, value: str) -> int:
    """pflag's int flag: strconv.ParseInt(value, 0, 64), with pflag's message when it is not one."""
    def refused(why: str):
        return Fail(f'invalid argument "{value}" for "{name}" flag: strconv.ParseInt: parsing "{value}": {why}')
    if not re.fullmatch(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)", value) or "__" in value \
            or value.rstrip("_") != value:
        raise refused("invalid syntax")
    digits = value.lstrip("+-")
    number = int(digits, 8) if re.fullmatch(r"0[0-7_]+", digits) else int(digits, 0)
    number = -number if value.startswith("-") else number
    if not -(2 ** 63) <= number < 2 ** 63:
        raise refused("value out of range")
    return number


go_int.go_type = "int"
_GO_DURATION_UNITS = {"ns", "us", "\u00b5s", "\u03bcs", "ms", "s", "m", "h"}


def go_duration(name: str, value: str) -> str:
    """pflag's duration flag: Go's time.ParseDuration syntax (1h30m, 40m, 2.5s, 0), with pflag's message when it is not one."""
    def refused(why: str):
        return Fail(f'invalid argument "{value}" for "{name}" flag: time: {why}')
    rest = value[1:] if value[:1] in ("+", "-") else value
    if rest == "0":
        return value
    if rest == "":
        raise refused(f'invalid duration "{value}"')
    while rest:
        number = re.match(r"[0-9]*(\.[0-9]*)?", rest).group(0)
        if number in ("", "."):
            raise refused(f'invalid duration "{value}"')
        rest = rest[len(number):]
        unit = re.match(r"[^0-9.]*", rest).group(0)
        if unit == "":
            raise refused(f'missing unit in duration "{value}"')
        if unit not in _GO_DURATION_UNITS:
            raise refused(f'unknown unit "{unit}" in duration "{value}"')
        rest = rest[len(unit):]
    return value


go_duration.go_type = "duration"


def parse_flags(args: list, value_flags: set, bool_flags: set, short: dict = None, types: dict = None):
    """A small cobra-like parser: `--f v`, `--f=v`, bool `--b`/`--b=true`; unknown flags are errors.

    Like cobra, every flag is parsed (and typed, `types`: name -> go_int/go_duration) before `-h`/`--help`
    is looked at: an unknown or ill-typed flag fails even with --help; otherwise --help raises Help.
    """
    short = {"-f": "config-file", "-o": "output", "-n": "namespace", "-v": "verbose", "-h": "help", **(short or {})}
    value_flags = set(value_flags) | {"verbose", "color", "profile"}
    bool_flags = set(bool_flags) | {"help"}
    flags, positional = {}, []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positional += args[i + 1:]
            break
        if arg.startswith("-") and len(arg) > 1:
            name, has_value, value = arg.partition("=")
            key = short.get(name, name.lstrip("-"))
            if key in bool_flags:
                if has_value and value not in ("true", "false"):
                    raise Fail(f'invalid argument "{value}" for "{name}" flag: must be true or false')
                flags[key] = (value or "true") == "true"
            elif key in value_flags:
                if not has_value:
                    if i + 1 >= len(args):
                        # pflag names a shorthand by its letter: "'p' in -p".
                        raise Fail(f"flag needs an argument: {name}" if name.startswith("--") else f"flag needs an argument: '{name[1:]}' in {name}")
                    i += 1
                    value = args[i]
                if key in (types or {}):
                    types[key](f"--{key}" if name.startswith("--") else f"{name}, --{key}", value)
                flags[key] = value
            else:
                raise Fail(f"unknown flag: {name}")
        else:
            positional.append(arg)
        i += 1
    if flags.pop("help", False):
        raise Help(value_flags, bool_flags, short, types or {})
    return flags, positional


def print_usage(tool: str, args: list, help: Help) -> None:
    """What `<command> --help` prints: the command and the flags the double parses (its own words, not the real tool's)."""
    command = " ".join([tool] + [a for a in args[:next((i for i, a in enumerate(args) if a.startswith("-")), len(args))]])
    shorthand = {key: name for name, key in help.short.items()}
    print(f"{command}: TEST DOUBLE of {tool}, not {tool}\n\nUsage: {command} [flags]\n\nFlags:")
    for key in sorted(help.value_flags | help.bool_flags):
        prefix = f"{shorthand[key]}, " if key in shorthand else "    "
        kind = getattr(help.types.get(key), "go_type", "string") if key in help.value_flags else ""
        print(f"  {prefix}--{key} {kind}".rstrip())


def now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def info(message: str) -> None:
    # eksctl's logger writes to stderr, so `-o json` output on stdout stays parseable.
    print(f"{now()} [ℹ]  {message}", file=sys.stderr, flush=True)


def success(message: str) -> None:
    print(f"{now()} [✔]  {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"{now()} [!]  {message}", file=sys.stderr, flush=True)


def region_from(flags: dict, config: dict = None) -> str:
    from_config = ((config or {}).get("metadata") or {}).get("region")
    region = flags.get("region") or from_config or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if flags.get("region") and from_config and flags["region"] != from_config:
        raise Fail(f'--region={flags["region"]} and metadata.region={from_config} do not match')
    if not region:
        raise Fail("--region=<region> or metadata.region or AWS_REGION must be set")
    return region


_clients = {}


def client(service: str, region: str):
    """A botocore client for moto: endpoint from AWS_ENDPOINT_URL (Debian's botocore 1.29 ignores it)."""
    key = (service, region)
    if key not in _clients:
        import botocore.session
        from botocore.config import Config

        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            raise Fail("AWS_ENDPOINT_URL is not set: this test double only talks to moto, never to real AWS")
        session = botocore.session.get_session()
        _clients[key] = session.create_client(
            service, region_name=region, endpoint_url=endpoint, config=Config(retries={"max_attempts": 2})
        )
    return _clients[key]


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # eksctl reads YAML into Go strings: a date-like nodegroup suffix stays a string, not a date.
    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def _json_path(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_config(path: str) -> dict:
    """Reads a ClusterConfig file and validates it against eksctl's v0.230.0 JSON schema."""
    import yaml
    from jsonschema import Draft7Validator

    if not path:
        raise Fail("--config-file (-f) is required")
    try:
        with open(path) as f:
            doc = yaml.load(f, Loader=_yaml_loader())
    except OSError as e:
        raise Fail(f'reading config file "{path}": {e.strerror}')
    except yaml.YAMLError as e:
        raise Fail(f'loading config file "{path}": {e}')
    if not isinstance(doc, dict):
        raise Fail(f'loading config file "{path}": expected a ClusterConfig mapping')
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    errors = sorted(Draft7Validator(schema).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  {_json_path(e.absolute_path)}: {e.message}" for e in errors[:20]]
        raise Fail(
            f'loading config file "{path}": does not match the eksctl v0.230.0 schema '
            f"(checked by the eksctl test double):\n" + "\n".join(lines)
        )
    if doc.get("apiVersion") != "eksctl.io/v1alpha5" or doc.get("kind") != "ClusterConfig":
        raise Fail(f'loading config file "{path}": want apiVersion eksctl.io/v1alpha5 and kind ClusterConfig')
    if not (doc.get("metadata") or {}).get("name"):
        raise Fail(f'loading config file "{path}": metadata.name must be set')
    return doc


def config_if_given(flags: dict):
    """The ClusterConfig that --config-file (-f) names, validated; None when the flag is absent."""
    return load_config(flags["config-file"]) if flags.get("config-file") else None


def cluster_name(flags: dict, config: dict = None, flag_names=("cluster",)):
    """The cluster a command acts on: the first of `flag_names` that is set, else the file's metadata.name."""
    for flag in flag_names:
        if flags.get(flag):
            return flags[flag]
    return ((config or {}).get("metadata") or {}).get("name")


def cluster_not_found(name) -> Fail:
    """eksctl's error for a cluster EKS does not know (the API's ResourceNotFoundException)."""
    return Fail(f"ResourceNotFoundException: No cluster found for name: {name}.")


def run_main(tool: str, main, error_prefix: str = "Error: ") -> None:
    args = sys.argv[1:]
    # The double may be PID 1 of its container, where SIGTERM without a handler is ignored.
    signal.signal(signal.SIGTERM, lambda *_: (print(f"{tool} test double: terminated", file=sys.stderr), sys.exit(143)))
    try:
        record_and_maybe_fail(tool, args)
        code = main(args)
    except Help as h:
        print_usage(tool, args, h)
        code = 0
    except Fail as e:
        print(f"{error_prefix}{e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print(f"{tool} test double: interrupted", file=sys.stderr)
        code = 130
    except Exception as e:  # botocore ClientError and friends: one line like eksctl, not a traceback
        name = type(e).__name__
        if name in ("ClientError", "EndpointConnectionError", "NoCredentialsError", "ParamValidationError"):
            print(f"{error_prefix}{e}", file=sys.stderr)
            code = 1
        else:
            raise
    sys.exit(code or 0)
