package wirelab;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The command-line flags of the exchange's two entry points and the link simulator: {@code --name value} pairs, and
 * the switches {@code --help} and {@code --trace} that take no value. (A node and
 * add-transaction take a node's folder and, for add-transaction, a transaction: no flags
 * beyond {@code --trace}, so they read their few arguments by hand.)
 * A wrong flag or value is an {@link IllegalArgumentException} whose message says what was
 * expected and what came; each {@code main} prints it with its usage and exits 2.
 */
public final class Flags {

    private final Map<String, String> values;
    private final boolean help;
    private final boolean trace;

    private Flags(Map<String, String> values, boolean help, boolean trace) {
        this.values = values;
        this.help = help;
        this.trace = trace;
    }

    /** {@code names} are the flags (without "--") this program takes; each takes one value. */
    public static Flags parse(String[] args, Set<String> names) {
        Map<String, String> values = new HashMap<>();
        boolean help = false;
        boolean trace = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                help = true;
                continue;
            }
            if (arg.equals("--trace")) {
                trace = true;
                continue;
            }
            if (!arg.startsWith("--") || !names.contains(arg.substring(2))) {
                throw new IllegalArgumentException("unknown argument '" + arg + "'; expected one of --"
                        + String.join(", --", names.stream().sorted().toList()) + ", --trace or --help");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            values.put(arg.substring(2), args[++i]);
        }
        return new Flags(values, help, trace);
    }

    public boolean help() {
        return help;
    }

    /** --trace: show every unit on the wire (see {@link Trace}). */
    public boolean trace() {
        return trace;
    }

    public String string(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    public long integer(String name, long defaultValue, long min, long max) {
        String text = values.get(name);
        if (text == null) {
            return defaultValue;
        }
        try {
            long value = Long.parseLong(text.trim());
            if (value < min || value > max) {
                throw new IllegalArgumentException("--" + name + " must be from " + min + " to " + max + ", got " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + text + "'");
        }
    }

    public double number(String name, double defaultValue, double min, double max) {
        String text = values.get(name);
        if (text == null) {
            return defaultValue;
        }
        try {
            double value = Double.parseDouble(text.trim());
            if (!(value >= min && value <= max)) {
                throw new IllegalArgumentException("--" + name + " must be from " + min + " to " + max + ", got " + text);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, got '" + text + "'");
        }
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }
}
