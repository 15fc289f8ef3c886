import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** An org's API key. Only the SHA-256 of the key is stored; the key is shown once. */
@Entity('api_keys')
@Unique('api_keys_key_hash_unique', ['keyHash'])
@Index('api_keys_org_created_id', ['orgId', 'createdAt', 'id'])
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  orgId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  prefix!: string;

  @Column('text')
  last4!: string;

  @Column('text')
  keyHash!: string;

  @Column('text', { array: true })
  scopes!: string[];

  @Column('timestamptz', { nullable: true })
  expiresAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  lastUsedAt!: Date | null;

  @Column('text')
  createdBy!: string;

  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

/** A platform-admin key: belongs to no org, can only reach platform routes. */
@Entity('platform_api_keys')
@Unique('platform_api_keys_key_hash_unique', ['keyHash'])
export class PlatformApiKey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  prefix!: string;

  @Column('text')
  last4!: string;

  @Column('text')
  keyHash!: string;

  @Column('timestamptz', { nullable: true })
  revokedAt!: Date | null;

  @Column('timestamptz', { nullable: true })
  lastUsedAt!: Date | null;

  @Column('text')
  createdBy!: string;

  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
