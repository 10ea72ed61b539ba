// LoopbackServer: UnboundID's in-memory directory server on 127.0.0.1 only.
// testbed/ldap-up compiles it once into the cache and runs it:
//
//	java -cp unboundid-ldapsdk.jar:DIR LoopbackServer PORT BASE_DN BIND_DN LDIF PROPERTIES ACCESS_LOG
//
// The jar's own InMemoryDirectoryServerTool has no option for the listen
// address and listens on every interface, which would offer the seed's
// documented passwords to the network. PROPERTIES (mode 600) holds
// additionalBindPassword=..., so the bind password is never on the command line.
import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.schema.Schema;
import java.io.Reader;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.logging.FileHandler;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

public class LoopbackServer {
	public static void main(String[] args) throws Exception {
		if (args.length != 6) {
			System.err.println("usage: LoopbackServer PORT BASE_DN BIND_DN LDIF PROPERTIES ACCESS_LOG");
			System.exit(2);
		}
		int port = Integer.parseInt(args[0]);
		Properties props = new Properties();
		try (Reader r = Files.newBufferedReader(Path.of(args[4]))) {
			props.load(r);
		}
		String pw = props.getProperty("additionalBindPassword", "");
		if (pw.isEmpty()) {
			System.err.println(args[4] + ": additionalBindPassword is missing");
			System.exit(2);
		}
		InMemoryDirectoryServerConfig cfg = new InMemoryDirectoryServerConfig(args[1]);
		cfg.addAdditionalBindCredentials(args[2], pw);
		cfg.setSchema(Schema.getDefaultStandardSchema());
		cfg.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig(
				"loopback", InetAddress.getByName("127.0.0.1"), port, null));
		FileHandler access = new FileHandler(args[5], true);
		access.setFormatter(new Formatter() { // the messages carry their own timestamp
			@Override
			public String format(LogRecord r) {
				return r.getMessage() + System.lineSeparator();
			}
		});
		cfg.setAccessLogHandler(access);
		InMemoryDirectoryServer server = new InMemoryDirectoryServer(cfg);
		int n = server.importFromLDIF(true, args[3]);
		server.startListening();
		System.out.println("Added " + n + " entries from " + args[3]);
		System.out.println("Listening on 127.0.0.1:" + server.getListenPort());
		Runtime.getRuntime().addShutdownHook(new Thread(() -> server.shutDown(true)));
		Thread.currentThread().join();
	}
}
