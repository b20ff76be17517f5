"""The run: the one loop (:mod:`.loop`), the public :class:`Runner`, model calls under the retry policy
(:mod:`.modelcall`), tool execution (:mod:`.toolexec`) and the retry policy (:mod:`.retry`)."""
