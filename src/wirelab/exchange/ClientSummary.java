package wirelab.exchange;

/**
 * What one run of the {@link ExchangeClient} did; printed as one line whether it succeeded or not. {@code lastSeenIn} is
 * how many of the {@code streams} carried the highest sequence; {@code dropRate} the share of
 * packets up to it that the streams missed.
 */
public record ClientSummary(int receivedInStream, int streams, int highestSequence, int lastSeenIn, double dropRate,
                            int missing, int recovered, int retries, long elapsedMs, long recoveryMs) {
    @Override
    public String toString() {
        return "received " + receivedInStream + " in " + streams + (streams == 1 ? " stream, " : " streams, ") + missing
                + " missing, " + recovered + " recovered, " + retries + " retries, " + elapsedMs + " ms (" + recoveryMs
                + " ms after the streams)" + (streams == 0 ? "" : "; " + tailRisk());
    }

    /**
     * What the protocol cannot prove: a sequence after the highest one seen exists only if
     * every stream dropped it, and each did so with about the drop rate the streams showed.
     */
    public String tailRisk() {
        double chance = Math.pow(dropRate, streams);
        return "the last sequence seen, " + highestSequence + ", came in " + lastSeenIn + " of " + streams
                + (streams == 1 ? " stream" : " streams") + "; a sequence " + (highestSequence + 1)
                + " would have had to be dropped by " + (streams == 1 ? "it" : "all " + streams)
                + ": at the drop rate seen (" + hundredths(dropRate) + "), a "
                + (chance == 0 ? "0" : chance < 0.001 ? "< 0.1" : tenths(100 * chance)) + " % chance";
    }

    // Rounded by hand: String.format's first call costs a short command 10-20 ms of start-up.
    private static String hundredths(double value) {
        long scaled = Math.round(value * 100);
        return scaled / 100 + "." + (scaled % 100 < 10 ? "0" : "") + scaled % 100;
    }

    private static String tenths(double value) {
        long scaled = Math.round(value * 10);
        return scaled / 10 + "." + scaled % 10;
    }
}
