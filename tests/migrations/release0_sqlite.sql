CREATE TABLE application (
	application_no VARCHAR(64) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	business_type VARCHAR(64) NOT NULL, 
	voltage VARCHAR(16), 
	capacity_kva FLOAT, 
	state VARCHAR(16) NOT NULL, 
	stage VARCHAR(64) NOT NULL, 
	customer_manager VARCHAR(64), 
	accepted_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	warning_level VARCHAR(16), 
	next_due_at DATETIME, 
	too_short BOOLEAN NOT NULL, 
	provisional BOOLEAN NOT NULL, 
	customer_name VARCHAR(200) NOT NULL, 
	customer_phone VARCHAR(20), 
	final_status JSON, 
	PRIMARY KEY (application_no)
);

CREATE INDEX ix_application_stage ON application (stage);

CREATE INDEX ix_application_state ON application (state);

CREATE INDEX ix_application_next_due_at ON application (next_due_at);

CREATE INDEX ix_application_unit ON application (unit);

CREATE INDEX ix_application_warning_level ON application (warning_level);

CREATE INDEX ix_application_business_type ON application (business_type);

CREATE INDEX ix_application_customer_manager ON application (customer_manager);

CREATE TABLE timeline (
	id INTEGER NOT NULL, 
	application_no VARCHAR(64) NOT NULL, 
	seq INTEGER NOT NULL, 
	event VARCHAR(64) NOT NULL, 
	at DATETIME NOT NULL, 
	"by" VARCHAR(64), 
	note VARCHAR(500), 
	PRIMARY KEY (id), 
	UNIQUE (application_no, seq)
);

CREATE INDEX ix_timeline_application_no ON timeline (application_no);

CREATE TABLE warning (
	application_no VARCHAR(64) NOT NULL, 
	monitor VARCHAR(128) NOT NULL, 
	code VARCHAR(64) NOT NULL, 
	level VARCHAR(16) NOT NULL, 
	due_at DATETIME NOT NULL, 
	raised_at DATETIME NOT NULL, 
	roles JSON NOT NULL, 
	result VARCHAR(32), 
	source VARCHAR(500), 
	open BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (application_no, monitor, level)
);

CREATE INDEX ix_warning_application_no ON warning (application_no);

CREATE INDEX ix_warning_open ON warning (open);

CREATE INDEX ix_warning_level ON warning (level);

CREATE TABLE org_unit (
	code VARCHAR(128) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	level VARCHAR(16) NOT NULL, 
	parent VARCHAR(128), 
	PRIMARY KEY (code)
);

CREATE INDEX ix_org_unit_parent ON org_unit (parent);

CREATE TABLE sms_outbox (
	application_no VARCHAR(64) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	monitor VARCHAR(128) NOT NULL, 
	code VARCHAR(64) NOT NULL, 
	level VARCHAR(16) NOT NULL, 
	phone VARCHAR(11) NOT NULL, 
	role VARCHAR(64) NOT NULL, 
	roles JSON NOT NULL, 
	staff_code VARCHAR(64), 
	message VARCHAR(1000) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	send_after DATETIME NOT NULL, 
	send_before DATETIME NOT NULL, 
	window VARCHAR(16) NOT NULL, 
	sent_at DATETIME, 
	claimed_until DATETIME, 
	created_at DATETIME NOT NULL, 
	gateway_answer VARCHAR(500), 
	last_error VARCHAR(500), 
	id INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (application_no, monitor, level, phone)
);

CREATE INDEX ix_sms_outbox_state ON sms_outbox (state);

CREATE INDEX ix_sms_outbox_phone ON sms_outbox (phone);

CREATE INDEX ix_sms_outbox_application_no ON sms_outbox (application_no);

CREATE INDEX ix_sms_outbox_send_after ON sms_outbox (send_after);

CREATE TABLE sms_undeliverable (
	id INTEGER NOT NULL, 
	application_no VARCHAR(64) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	monitor VARCHAR(128) NOT NULL, 
	level VARCHAR(16) NOT NULL, 
	role VARCHAR(64) NOT NULL, 
	department VARCHAR(32) NOT NULL, 
	reason VARCHAR(300) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (application_no, monitor, level, role, department)
);

CREATE INDEX ix_sms_undeliverable_application_no ON sms_undeliverable (application_no);

CREATE TABLE capacity_reservation (
	application_no VARCHAR(64) NOT NULL, 
	plan_version INTEGER NOT NULL, 
	resource_kind VARCHAR(16) NOT NULL, 
	resource_id VARCHAR(64) NOT NULL, 
	kva FLOAT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	released_at DATETIME, 
	release_reason VARCHAR(32), 
	id INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (application_no, plan_version, resource_kind, resource_id)
);

CREATE INDEX ix_capacity_reservation_application_no ON capacity_reservation (application_no);

CREATE INDEX ix_capacity_reservation_resource ON capacity_reservation (resource_kind, resource_id, state);

CREATE TABLE grid_substation (
	lon FLOAT NOT NULL, 
	lat FLOAT NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	voltage VARCHAR(16) NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(unit) REFERENCES org_unit (code)
);

CREATE INDEX ix_grid_substation_unit ON grid_substation (unit);

CREATE TABLE staff (
	code VARCHAR(64) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	roles JSON NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	department VARCHAR(32) NOT NULL, 
	phone VARCHAR(11) NOT NULL, 
	active BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(unit) REFERENCES org_unit (code)
);

CREATE UNIQUE INDEX ix_staff_code ON staff (code);

CREATE INDEX ix_staff_active ON staff (active);

CREATE INDEX ix_staff_unit ON staff (unit);

CREATE TABLE grid_feeder (
	name VARCHAR(200) NOT NULL, 
	substation VARCHAR(64) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	voltage VARCHAR(16) NOT NULL, 
	rated_kva FLOAT NOT NULL, 
	used_kva FLOAT NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(substation) REFERENCES grid_substation (id), 
	FOREIGN KEY(unit) REFERENCES org_unit (code)
);

CREATE INDEX ix_grid_feeder_unit ON grid_feeder (unit);

CREATE INDEX ix_grid_feeder_voltage ON grid_feeder (voltage);

CREATE INDEX ix_grid_feeder_substation ON grid_feeder (substation);

CREATE TABLE grid_transformer (
	name VARCHAR(200) NOT NULL, 
	feeder VARCHAR(64) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	rated_kva FLOAT NOT NULL, 
	load_kva FLOAT NOT NULL, 
	lon FLOAT, 
	lat FLOAT, 
	id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(feeder) REFERENCES grid_feeder (id), 
	FOREIGN KEY(unit) REFERENCES org_unit (code)
);

CREATE INDEX ix_grid_transformer_unit ON grid_transformer (unit);

CREATE INDEX ix_grid_transformer_feeder ON grid_transformer (feeder);

CREATE TABLE grid_connection_point (
	lon FLOAT NOT NULL, 
	lat FLOAT NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	unit VARCHAR(128) NOT NULL, 
	voltage VARCHAR(16) NOT NULL, 
	feeder VARCHAR(64), 
	transformer VARCHAR(64), 
	restricted BOOLEAN NOT NULL, 
	restricted_reason VARCHAR(300), 
	id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(unit) REFERENCES org_unit (code), 
	FOREIGN KEY(feeder) REFERENCES grid_feeder (id), 
	FOREIGN KEY(transformer) REFERENCES grid_transformer (id)
);

CREATE INDEX ix_grid_connection_point_restricted ON grid_connection_point (restricted);

CREATE INDEX ix_grid_connection_point_voltage ON grid_connection_point (voltage);

CREATE INDEX ix_grid_connection_point_transformer ON grid_connection_point (transformer);

CREATE INDEX ix_grid_connection_point_feeder ON grid_connection_point (feeder);

CREATE INDEX ix_grid_connection_point_lat_lon ON grid_connection_point (lat, lon);

CREATE INDEX ix_grid_connection_point_unit ON grid_connection_point (unit);

CREATE TABLE grid_customer (
	feeder VARCHAR(64) NOT NULL, 
	transformer VARCHAR(64), 
	name VARCHAR(200) NOT NULL, 
	phone VARCHAR(11), 
	id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(feeder) REFERENCES grid_feeder (id), 
	FOREIGN KEY(transformer) REFERENCES grid_transformer (id)
);

CREATE INDEX ix_grid_customer_transformer ON grid_customer (transformer);

CREATE INDEX ix_grid_customer_feeder ON grid_customer (feeder);
